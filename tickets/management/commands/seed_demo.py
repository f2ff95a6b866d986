"""`manage.py seed_demo`: fill the desk with a realistic, deterministic demo (two shops, 300 conversations).

Logins (password from the DEMO_PASSWORD environment variable, default `carddesk-demo`, reset on every run):

- `supervisor`: Supervisors group, staff, and also a superuser so the demo can show every admin screen.
- `agent1` … `agent4`: Agents group, staff, each working one to three queues (guardian `tickets.work_queue`).
- `merchant1`, `merchant2`: Merchants group, staff, owners of 星辰卡铺 / 月光发卡 (`access_shop` + `manage_shop`).
- `customer1`: Customers group, the help-centre login of one customer of 星辰卡铺.

Refuses to run unless settings.DEMO_DATA_ALLOWED is True (production settings keep it False). Running it again
adds nothing: it reports that the demo data is present and only restores the demo users and structure.
"""

from __future__ import annotations

import os

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from tickets.demo.catalog import STAFF
from tickets.demo.seed import seed_demo

DEFAULT_PASSWORD = "carddesk-demo"  # noqa: S105 (the documented public demo password, demo settings only)


class Command(BaseCommand):
    help = "Create demo shops, staff, customers, orders and ticket conversations (not in production)."

    def handle(self, *args, **options):
        if not getattr(settings, "DEMO_DATA_ALLOWED", False):
            raise CommandError(
                "Demo data is not allowed with these settings (DEMO_DATA_ALLOWED is False, as in production). "
                "Run seed_demo with the local or test settings only."
            )
        password = os.environ.get("DEMO_PASSWORD") or DEFAULT_PASSWORD
        result = seed_demo(password=password)
        if result.seeded:
            self.stdout.write(self.style.SUCCESS(f"Demo data created in {result.seconds:.1f} s."))
        else:
            self.stdout.write(f"Demo data is already present; nothing added ({result.seconds:.1f} s).")
        for name, count in result.counts.items():
            self.stdout.write(f"  {name:<15} {count:>6}")
        shown = password if password == DEFAULT_PASSWORD else "the value of DEMO_PASSWORD"
        usernames = ", ".join(spec.username for spec in STAFF)
        self.stdout.write(f"Log in as {usernames} with password {shown}.")
