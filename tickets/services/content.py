"""Message content: sanitised HTML with secrets masked, and checked attachments."""

from __future__ import annotations

import hashlib
import html
import re
from collections.abc import Iterable
from dataclasses import dataclass

import nh3
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext as _

from helpdesk.masking import mask_text
from tickets.errors import InvalidInput

ALLOWED_TAGS = {"p", "br", "strong", "b", "em", "i", "u", "s", "a", "ul", "ol", "li", "code", "pre", "blockquote"}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}}
MAX_BODY_CHARS = 20000

# What customers and agents may attach: images, PDFs, text logs, archives of screenshots.
ALLOWED_TYPES = {
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/gif": (b"GIF87a", b"GIF89a"),
    "image/webp": (b"RIFF",),
    "application/pdf": (b"%PDF-",),
    "text/plain": (),
    "application/zip": (b"PK\x03\x04",),
}


def render_body(body: str, *, fmt: str = "text", known_secrets: Iterable[str] = ()) -> str:
    """Turn user input into safe stored HTML; card keys and phone numbers are masked before storing."""
    if body is None or not body.strip():
        raise InvalidInput(_("The message is empty."), field="body")
    if len(body) > MAX_BODY_CHARS:
        raise InvalidInput(
            _("The message is longer than %(limit)s characters.") % {"limit": MAX_BODY_CHARS}, field="body"
        )
    if fmt == "html":
        cleaned = nh3.clean(body, tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES, link_rel="noopener noreferrer")
    elif fmt == "text":
        cleaned = "<br>".join(html.escape(line) for line in body.strip().splitlines())
    else:
        raise InvalidInput(_("Unknown body format %(format)s.") % {"format": repr(fmt)}, field="format")
    return mask_text(cleaned, known_secrets)


_TAG = re.compile(r"<[^>]+>")


def body_text(body_html: str) -> str:
    """Plain text of a stored body (for previews, search, e-mail)."""
    return html.unescape(_TAG.sub(" ", body_html.replace("<br>", "\n"))).strip()


@dataclass(frozen=True)
class CheckedUpload:
    upload: UploadedFile
    filename: str
    content_type: str
    size: int
    sha256: str


def check_upload(upload: UploadedFile) -> CheckedUpload:
    """Reject what is too large or not what it claims to be; name the file in the error."""
    name = (upload.name or "file").rsplit("/", 1)[-1][:200]
    size = upload.size or 0
    if size > settings.ATTACHMENT_MAX_BYTES:
        limit_mb = settings.ATTACHMENT_MAX_BYTES // (1024 * 1024)
        raise InvalidInput(
            _("%(name)s is larger than %(limit)s MB.") % {"name": name, "limit": limit_mb}, field="attachments"
        )
    content_type = (upload.content_type or "").split(";")[0].strip().lower()
    if content_type not in ALLOWED_TYPES:
        raise InvalidInput(
            _("%(name)s: files of type %(type)s are not accepted.")
            % {"name": name, "type": content_type or _("unknown")},
            field="attachments",
        )
    digest = hashlib.sha256()
    head = b""
    for chunk in upload.chunks():
        if not head:
            head = chunk[:16]
        digest.update(chunk)
    upload.seek(0)
    signatures = ALLOWED_TYPES[content_type]
    if signatures and not any(head.startswith(sig) for sig in signatures):
        raise InvalidInput(
            _("%(name)s is not a valid %(type)s file.") % {"name": name, "type": content_type}, field="attachments"
        )
    if content_type == "text/plain" and b"\x00" in head:
        raise InvalidInput(_("%(name)s is not a text file.") % {"name": name}, field="attachments")
    return CheckedUpload(upload, name, content_type, size, digest.hexdigest())
