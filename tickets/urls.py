from django.urls import path

from tickets.views import inbox, ticket

app_name = "console"

urlpatterns = [
    path("", inbox.inbox, name="inbox"),
    path("bulk/", inbox.bulk, name="bulk"),
    path("views/save/", inbox.saved_view_save, name="saved-view-save"),
    path("views/<int:view_id>/delete/", inbox.saved_view_remove, name="saved-view-delete"),
    path("t/<str:reference>/", ticket.ticket_detail, name="ticket"),
    path("t/<str:reference>/reply/", ticket.ticket_reply, name="ticket-reply"),
    path("t/<str:reference>/fields/", ticket.ticket_fields, name="ticket-fields"),
    path("t/<str:reference>/merge/", ticket.ticket_merge, name="ticket-merge"),
    path("t/<str:reference>/reveal/", ticket.ticket_reveal, name="ticket-reveal"),
    path("t/<str:reference>/messages/", ticket.ticket_messages, name="ticket-messages"),
    path("t/<str:reference>/canned/<int:reply_id>/", ticket.canned_reply_preview, name="canned-reply"),
    path("t/<str:reference>/<slug:action>/", ticket.ticket_quick, name="ticket-quick"),
]
