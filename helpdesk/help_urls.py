"""The public help centre: knowledge-base pages (knowledge app) and ticket pages (tickets app), one namespace."""

from knowledge.help_urls import urlpatterns as knowledge_patterns
from tickets.help_urls import urlpatterns as ticket_patterns

app_name = "help"
urlpatterns = [*knowledge_patterns, *ticket_patterns]
