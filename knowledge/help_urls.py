"""Help-centre knowledge-base pages (home, categories, articles, search) — built with issue 4."""

from django.urls import path

from knowledge.views import help_centre

urlpatterns = [
    path("", help_centre.home, name="home"),
]
