from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def contact(request: HttpRequest) -> HttpResponse:
    return render(request, "help/home.html")


@login_required
def my_tickets(request: HttpRequest) -> HttpResponse:
    return render(request, "help/home.html")
