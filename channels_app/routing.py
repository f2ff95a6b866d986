from django.urls import path

from channels_app.consumers import ChatConsumer, ConsoleConsumer

# The console is same-origin only (AllowedHostsOriginValidator in helpdesk/asgi.py); the chat widget is embedded
# on shops' own sites, so its consumer checks the Origin against the shop's allowed origins itself.
console_urlpatterns = [
    path("ws/console/", ConsoleConsumer.as_asgi()),
]
chat_urlpatterns = [
    path("ws/chat/", ChatConsumer.as_asgi()),
]
