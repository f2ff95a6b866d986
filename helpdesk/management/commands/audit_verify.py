from django.core.management.base import BaseCommand, CommandError

from helpdesk.audit import audit_chain_verify


class Command(BaseCommand):
    help = "Recompute the audit trail's hash chain and check the latest signed checkpoint."

    def handle(self, *args, **options):
        report = audit_chain_verify()
        if not report.ok:
            raise CommandError(
                f"Audit chain broken at event {report.first_bad_id}: {report.reason} ({report.checked} events verified)"
            )
        self.stdout.write(self.style.SUCCESS(f"Audit chain intact: {report.checked} events verified."))
