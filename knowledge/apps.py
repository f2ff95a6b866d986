from django.apps import AppConfig


class KnowledgeConfig(AppConfig):
    """Knowledge base and help-centre articles (issue 4)."""

    name = "knowledge"
    verbose_name = "Knowledge base"
    default_auto_field = "django.db.models.BigAutoField"
