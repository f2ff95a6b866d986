"""`manage.py seed_kb`: the demo knowledge base — 44 published articles, 22 zh/en pairs linked as translations.

Covers payments (paid but not received, double charge), delivery (card key not delivered), invalid or used
card keys, refunds, account security, merchants and consignment, redeeming (Steam, Apple, Google Play,
王者荣耀 点券) and failed recharges. Idempotent: a second run adds nothing and changes only what differs
from the definition. Refuses to run unless settings.DEMO_DATA_ALLOWED is True (never in production).
Run after seed_demo (the launcher runs both); it needs no other demo data.
"""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from knowledge.demo.seed import seed_kb


class Command(BaseCommand):
    help = "Create or update the demo knowledge base (zh/en articles; not in production)."

    def handle(self, *args, **options):
        if not getattr(settings, "DEMO_DATA_ALLOWED", False):
            raise CommandError(
                "Demo data is not allowed with these settings (DEMO_DATA_ALLOWED is False, as in production). "
                "Run seed_kb with the local or test settings only."
            )
        result = seed_kb()
        if result.created or result.updated:
            self.stdout.write(
                self.style.SUCCESS(
                    f"Knowledge base seeded in {result.seconds:.1f} s: {result.created} articles created, "
                    f"{result.updated} updated, {result.unchanged} unchanged."
                )
            )
        else:
            self.stdout.write(f"Knowledge base already up to date; nothing changed ({result.seconds:.1f} s).")
        for name, count in result.counts.items():
            self.stdout.write(f"  {name:<12} {count:>5}")
