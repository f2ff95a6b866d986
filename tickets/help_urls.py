"""Help-centre ticket pages: contact form, tracking without an account (by link), my tickets (by login), CSAT."""

from django.contrib.auth.decorators import login_required
from django.urls import path

from tickets.views import help_centre as views

urlpatterns = [
    path("contact/", views.contact, name="contact"),
    path("contact/done/", views.contact_done, name="contact-done"),
    # Tracking link: the token is the only credential.
    path("t/", views.track_request, name="track-request"),
    path("t/<str:token>/", views.track, name="track"),
    path("t/<str:token>/reply/", views.track_reply, name="track-reply"),
    path("t/<str:token>/solve/", views.track_solve, name="track-solve"),
    path("t/<str:token>/rate/", views.rate, name="rate"),
    path("t/<str:token>/files/<int:attachment_id>/", views.track_file, name="track-file"),
    # Logged-in customers: their own tickets, no token needed.
    path("my/", views.my_tickets, name="my-tickets"),
    path("my/<str:reference>/", login_required(views.track), name="my-ticket"),
    path("my/<str:reference>/reply/", login_required(views.track_reply), name="my-ticket-reply"),
    path("my/<str:reference>/solve/", login_required(views.track_solve), name="my-ticket-solve"),
    path("my/<str:reference>/rate/", login_required(views.rate), name="my-ticket-rate"),
    path("my/<str:reference>/files/<int:attachment_id>/", login_required(views.track_file), name="my-ticket-file"),
]
