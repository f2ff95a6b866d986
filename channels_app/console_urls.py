from django.urls import path

from channels_app.views import console

app_name = "chats"

urlpatterns = [
    path("", console.chat_desk, name="desk"),
    path("incoming/", console.chat_incoming, name="incoming"),
    path("<int:chat_id>/accept/", console.chat_accept, name="accept"),
    path("<int:chat_id>/transfer/", console.chat_transfer, name="transfer"),
    path("<int:chat_id>/end/", console.chat_end, name="end"),
]
