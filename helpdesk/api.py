"""DRF base pieces shared by every app's API."""

from django.http import Http404
from rest_framework import exceptions
from rest_framework.views import exception_handler as drf_exception_handler

NOT_FOUND_BODY = {"detail": "Not found."}


def exception_handler(exc, context):
    # Not yours means not found: a forbidden object answers exactly like a missing one.
    if isinstance(exc, Http404 | exceptions.NotFound):
        exc = exceptions.NotFound(NOT_FOUND_BODY["detail"])
    return drf_exception_handler(exc, context)
