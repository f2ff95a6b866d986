from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from channels_app.services.widgets import chat_widget_ensure
from helpdesk import context
from helpdesk.models import Shop
from tickets.models import Queue


class Command(BaseCommand):
    help = "Give every demo shop a chat widget answered by the delivery queue (not in production)."

    def handle(self, *args, **options):
        if not getattr(settings, "DEMO_DATA_ALLOWED", False):
            raise CommandError("Demo data is not allowed with these settings (DEMO_DATA_ALLOWED is False).")
        queue = Queue.objects.filter(slug="delivery").first() or Queue.objects.filter(is_active=True).first()
        with context.bound(actor_label="seed_chat"):
            for shop in Shop.objects.filter(is_active=True).order_by("id"):
                widget = chat_widget_ensure(shop=shop, actor=None, queue=queue)
                self.stdout.write(f"  chat widget {shop.slug:<12} {widget.public_key}")
