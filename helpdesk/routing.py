"""Websocket routes of every app, wired here at the composition root (the chat socket arrives with its issue)."""

from channels_app.routing import websocket_urlpatterns as channels_app_routes

websocket_urlpatterns: list = [*channels_app_routes]
