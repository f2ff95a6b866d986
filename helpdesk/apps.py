from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _sync_roles(sender, **kwargs):
    # Permissions are created by post_migrate too; roles_sync skips any that do not exist yet and is
    # called again after every app, so the groups end complete.
    from helpdesk.roles import roles_sync

    roles_sync()


class HelpdeskConfig(AppConfig):
    name = "helpdesk"
    verbose_name = "CardDesk"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # Load the Celery app with Django so `.delay()` anywhere uses the configured broker.
        import helpdesk.celery  # noqa: F401

        post_migrate.connect(_sync_roles, dispatch_uid="carddesk-roles-sync")
