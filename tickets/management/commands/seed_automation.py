from django.core.management.base import BaseCommand

from helpdesk import context
from tickets.services.automation_setup import automation_defaults_install


class Command(BaseCommand):
    help = (
        "Install the default business calendar, SLA policies, built-in rules and a first classifier model "
        "(only what is missing; edited defaults stay as they are). Safe in production."
    )

    def add_arguments(self, parser):
        parser.add_argument("--no-train", action="store_true", help="do not train a classifier model")

    def handle(self, *args, **options):
        with context.bound(actor_label="seed_automation"):
            done = automation_defaults_install(train=not options["no_train"])
        self.stdout.write(
            f"automation defaults: {done.calendars} calendar, {done.policies} SLA policies, {done.rules} rules"
            + (f", classifier model #{done.classifier}" if done.classifier else "")
        )
