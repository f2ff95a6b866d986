from django.apps import AppConfig


class ChannelsAppConfig(AppConfig):
    """Live chat on top of tickets (issue 5): sessions, consumers, presence, the widget."""

    name = "channels_app"
    verbose_name = "Live chat"
    default_auto_field = "django.db.models.BigAutoField"
