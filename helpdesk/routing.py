"""Websocket routes of every app, wired here at the composition root."""

from channels.security.websocket import AllowedHostsOriginValidator
from django.urls import path

from channels_app.routing import chat_urlpatterns, console_urlpatterns

websocket_urlpatterns: list = [
    *[path(str(p.pattern), AllowedHostsOriginValidator(p.callback)) for p in console_urlpatterns],
    *chat_urlpatterns,
]
