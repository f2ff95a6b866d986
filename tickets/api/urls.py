from django.urls import path

from tickets.api import views

app_name = "api"

urlpatterns = [
    path("", views.ApiRoot.as_view(), name="root"),
    path("tickets/", views.TicketListApi.as_view(), name="ticket-list"),
    path("tickets/<str:reference>/", views.TicketDetailApi.as_view(), name="ticket-detail"),
    path("tickets/<str:reference>/messages/", views.MessageListApi.as_view(), name="ticket-messages"),
    path("tickets/<str:reference>/assign/", views.AssignApi.as_view(), name="ticket-assign"),
    path("tickets/<str:reference>/status/", views.StatusApi.as_view(), name="ticket-status"),
]
