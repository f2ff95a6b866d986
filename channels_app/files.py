"""Signed links to a chat's attachments: one file of one conversation, for a week, without a login."""

from __future__ import annotations

from typing import Any

from django.core import signing
from django.urls import reverse

FILE_SALT = "carddesk.chat.file"
FILE_LINK_MAX_AGE = 7 * 24 * 3600


def file_url(*, ticket_id: int, attachment_id: int) -> str:
    token = signing.dumps({"t": ticket_id, "a": attachment_id}, salt=FILE_SALT, compress=True)
    return reverse("chat:file", args=[token])


def file_token_read(token: str) -> dict[str, Any] | None:
    try:
        data = signing.loads(token, salt=FILE_SALT, max_age=FILE_LINK_MAX_AGE)
    except signing.BadSignature:
        return None
    return data if isinstance(data, dict) else None


def with_file_urls(payload: dict[str, Any], ticket_id: int) -> dict[str, Any]:
    """The `message` frame's attachments with their download links."""
    if not payload.get("attachments"):
        return payload
    files = [{**a, "url": file_url(ticket_id=ticket_id, attachment_id=a["id"])} for a in payload["attachments"]]
    return {**payload, "attachments": files}
