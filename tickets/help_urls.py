"""Help-centre ticket pages: contact form, tracking without an account, satisfaction — built with issue 4."""

from django.urls import path

from tickets.views import help_centre

urlpatterns = [
    path("contact/", help_centre.contact, name="contact"),
    path("my/", help_centre.my_tickets, name="my-tickets"),
]
