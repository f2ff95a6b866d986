"""HTTP endpoints of the customer widget: its configuration (translated strings, topics), file uploads, files.

These are called cross-origin from shops' sites, so they answer CORS only for the widget's allowed origins
(and this desk's own host). Uploads authenticate with the conversation's resume token in a header, never a
cookie; file links are signed per attachment and ticket, so a link shows one file of one conversation.
"""

from __future__ import annotations

import time
import uuid

from django.core.cache import cache
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from channels_app import selectors, services
from channels_app.consumers.chat import origin_allowed
from channels_app.files import file_token_read
from channels_app.widget_strings import widget_strings
from tickets.errors import InvalidInput, InvalidTransition, TicketError
from tickets.models import Category, Ticket
from tickets.selectors.help_centre import public_attachment


def _cors(request: HttpRequest, response: HttpResponse, widget) -> HttpResponse:
    origin = request.headers.get("Origin")
    if origin and widget is not None and origin_allowed(origin, widget.allowed_origins):
        response["Access-Control-Allow-Origin"] = origin
        response["Access-Control-Allow-Headers"] = "X-Chat-Resume, Content-Type"
        response["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
        response["Vary"] = "Origin"
    return response


def _language(request: HttpRequest, widget) -> str:
    lang = request.GET.get("lang") or request.POST.get("lang") or ""
    return lang if lang in {"zh-hans", "en"} else widget.shop.default_language


@require_http_methods(["GET", "OPTIONS"])
def widget_config(request: HttpRequest, key: str) -> HttpResponse:
    widget = selectors.widget_by_key(key)
    if widget is None:
        raise Http404
    if request.method == "OPTIONS":
        return _cors(request, HttpResponse(), widget)
    language = _language(request, widget)
    with translation.override(language):
        topics = [
            {"slug": c.slug, "name": c.name if language == "zh-hans" else (c.name_en or c.name)}
            for c in Category.objects.filter(is_active=True, parent__isnull=True).order_by("name")
        ]
        data = {
            "shop": widget.shop.name,
            "language": language,
            "greeting": widget.greeting or _("Hi! How can we help you today?"),
            "topics": topics,
            "strings": widget_strings(),
            "agents_available": bool(selectors.available_agent_ids(widget.queue)),
        }
    response = JsonResponse(data, json_dumps_params={"ensure_ascii": False})
    response["Cache-Control"] = "max-age=60"
    return _cors(request, response, widget)


@csrf_exempt  # no cookie is used: the resume token in a header authenticates (not sent by forms of other sites)
@require_http_methods(["POST", "OPTIONS"])
def widget_upload(request: HttpRequest, key: str) -> HttpResponse:
    """A message with one attachment (image or file), posted through the same chat service as socket messages."""
    widget = selectors.widget_by_key(key)
    if widget is None:
        return JsonResponse({"error": {"code": "not_found", "message": "No such widget."}}, status=404)
    if request.method == "OPTIONS":
        return _cors(request, HttpResponse(), widget)
    with translation.override(_language(request, widget)):
        try:
            session = selectors.session_by_resume_token(widget=widget, token=request.headers.get("X-Chat-Resume"))
            if not services.resume_allowed(session):
                raise InvalidTransition(_("This chat has ended; start a new one to ask something else."), field="file")
            if not _upload_allowed(session.pk):
                return _cors(request, _too_many(), widget)
            upload = request.FILES.get("file")
            if upload is None:
                raise InvalidInput(_("Choose a file to send."), field="file")
            body = (request.POST.get("body") or "").strip() or upload.name
            client_msg_id = (request.POST.get("client_msg_id") or uuid.uuid4().hex)[:64]
            sent = services.chat_customer_message(
                session_id=session.pk, body=body, client_msg_id=client_msg_id, attachments=[upload]
            )
        except TicketError as error:
            status = 404 if error.code == "not_found" else 400
            response = JsonResponse(
                {"error": {"code": error.code, "message": str(error.message), "field": error.field}}, status=status
            )
            return _cors(request, response, widget)
    response = JsonResponse({"client_msg_id": client_msg_id, "seq": sent.result.message.seq}, status=201)
    return _cors(request, response, widget)


UPLOADS_PER_MINUTE = 10


def _upload_allowed(session_id: int) -> bool:
    """At most UPLOADS_PER_MINUTE files per conversation per minute (a Redis counter)."""
    key = f"chat-uploads:{session_id}:{int(time.time() // 60)}"
    cache.add(key, 0, timeout=120)
    try:
        return cache.incr(key) <= UPLOADS_PER_MINUTE
    except ValueError:
        return True


def _too_many() -> JsonResponse:
    message = _("You are sending files too fast; wait a minute.")
    return JsonResponse({"error": {"code": "rate_limited", "message": message, "field": "file"}}, status=429)


@require_http_methods(["GET"])
def widget_file(request: HttpRequest, token: str) -> FileResponse:
    data = file_token_read(token)
    ticket = Ticket.objects.filter(pk=data.get("t")).first() if data else None
    if ticket is None:
        raise Http404
    try:
        attachment = public_attachment(ticket, int(data.get("a", 0)))
    except TicketError:
        raise Http404 from None
    response = FileResponse(attachment.file.open("rb"), filename=attachment.filename)
    response["Content-Type"] = attachment.content_type
    response["X-Content-Type-Options"] = "nosniff"
    if not attachment.content_type.startswith("image/"):
        response["Content-Disposition"] = f'attachment; filename="{attachment.filename}"'
    return response
