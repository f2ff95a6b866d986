"""Websocket routes of every app (the console and chat sockets arrive with their issues)."""

websocket_urlpatterns: list = []
