"""Knowledge-base API, mounted by the project's urls.py at /api/v1/kb/."""

from django.urls import re_path

from knowledge.api import views

app_name = "kb_api"

urlpatterns = [
    re_path(r"^suggest/?$", views.SuggestApi.as_view(), name="suggest"),
]
