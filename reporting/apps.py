from django.apps import AppConfig


class ReportingConfig(AppConfig):
    """Rollups, dashboards and exports (a later issue)."""

    name = "reporting"
    verbose_name = "Reporting"
    default_auto_field = "django.db.models.BigAutoField"
