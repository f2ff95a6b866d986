"""Ticket API: thin adapters from HTTP to selectors (reads) and services (writes)."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from rest_framework import status as http
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError
from rest_framework.generics import ListAPIView
from rest_framework.pagination import CursorPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from tickets import selectors, services
from tickets.api import serializers as s
from tickets.errors import InvalidInput, NotAllowed, NotVisible, TicketError
from tickets.models import Category, Queue


class Conflict(ValidationError):
    status_code = http.HTTP_409_CONFLICT


def raise_api_error(error: TicketError) -> None:
    """Domain errors → HTTP: hidden 404, forbidden 403, bad input 400 naming the field, rule conflicts 409."""
    if isinstance(error, NotVisible):
        raise NotFound() from error
    if isinstance(error, NotAllowed):
        raise PermissionDenied(error.message) from error
    detail = {error.field or "non_field_errors": [error.message], "code": error.code}
    if isinstance(error, InvalidInput):
        raise ValidationError(detail) from error
    raise Conflict(detail) from error


class TicketCursor(CursorPagination):
    ordering = ("-updated_at", "-id")
    page_size = 50
    max_page_size = 200
    page_size_query_param = "page_size"


class TicketListApi(ListAPIView):
    serializer_class = s.TicketListOutput
    pagination_class = TicketCursor

    def get_queryset(self):
        params = self.request.query_params
        filters = {key: params.get(key) for key in ("status", "priority", "channel", "tag") if params.get(key)}
        if params.get("queue"):
            filters["queue_id"] = Queue.objects.filter(slug=params["queue"]).values_list("id", flat=True).first()
        return selectors.ticket_list_visible_to(self.request.user, filters=filters)


class TicketApiView(APIView):
    def ticket(self, request: Request, reference: str):
        try:
            return selectors.ticket_get_visible(request.user, reference=reference)
        except NotVisible as error:
            raise_api_error(error)


class TicketDetailApi(TicketApiView):
    def get(self, request: Request, reference: str) -> Response:
        ticket = self.ticket(request, reference)
        return Response(s.TicketDetailOutput(ticket).data)

    def patch(self, request: Request, reference: str) -> Response:
        ticket = self.ticket(request, reference)
        data = s.TicketUpdateInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        for name, model in (("queue", Queue), ("category", Category)):
            if name in values and values[name] is not None:
                found = model.objects.filter(slug=values[name]).first()
                if found is None:
                    raise ValidationError({name: [f"No {name} with slug {values[name]!r}."]})
                values[name] = found
        try:
            ticket = services.ticket_update(ticket=ticket, actor=request.user, **values)
        except TicketError as error:
            raise_api_error(error)
        return Response(s.TicketDetailOutput(selectors.ticket_get_visible(request.user, pk=ticket.pk)).data)


class MessageListApi(TicketApiView):
    def get(self, request: Request, reference: str) -> Response:
        ticket = self.ticket(request, reference)
        try:
            after = max(int(request.query_params.get("after_seq", 0)), 0)
        except ValueError:
            raise ValidationError({"after_seq": ["Must be an integer."]}) from None
        messages = selectors.message_list_for(request.user, ticket, after_seq=after)[:500]
        return Response({"results": s.MessageOutput(messages, many=True).data, "last_seq": ticket.last_seq})

    def post(self, request: Request, reference: str) -> Response:
        ticket = self.ticket(request, reference)
        data = s.MessageInput(data=request.data)
        data.is_valid(raise_exception=True)
        kind = data.validated_data["kind"]
        post = {
            "reply": services.agent_reply_post,
            "note": services.internal_note_post,
            "customer": services.customer_message_post,
        }[kind]
        try:
            result = post(
                ticket=ticket,
                actor=request.user,
                body=data.validated_data["body"],
                client_msg_id=data.validated_data.get("client_msg_id"),
            )
        except TicketError as error:
            raise_api_error(error)
        code = http.HTTP_201_CREATED if result.created else http.HTTP_200_OK
        return Response(s.MessageOutput(result.message).data, status=code)


class AssignApi(TicketApiView):
    def post(self, request: Request, reference: str) -> Response:
        ticket = self.ticket(request, reference)
        data = s.AssignInput(data=request.data)
        data.is_valid(raise_exception=True)
        assignee = None
        if data.validated_data["assignee"] is not None:
            assignee = get_user_model().objects.filter(pk=data.validated_data["assignee"], is_active=True).first()
            if assignee is None:
                raise ValidationError({"assignee": ["No such active user."]})
        try:
            ticket = services.ticket_assign(ticket=ticket, actor=request.user, assignee=assignee)
        except TicketError as error:
            raise_api_error(error)
        return Response({"reference": ticket.reference, "assignee": ticket.assignee_id, "status": ticket.status})


class StatusApi(TicketApiView):
    def post(self, request: Request, reference: str) -> Response:
        ticket = self.ticket(request, reference)
        data = s.StatusInput(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            ticket = services.ticket_change_status(
                ticket=ticket, actor=request.user, status=data.validated_data["status"]
            )
        except TicketError as error:
            raise_api_error(error)
        return Response({"reference": ticket.reference, "status": ticket.status})


class ApiRoot(APIView):
    """Index of the v1 endpoints (the browsable API starts here)."""

    permission_classes = ()

    def get(self, request: Request) -> Response:
        from django.urls import reverse

        example = "T-000001"
        return Response(
            {
                "tickets": request.build_absolute_uri(reverse("api:ticket-list")),
                "ticket": request.build_absolute_uri(reverse("api:ticket-detail", args=[example])),
                "messages": request.build_absolute_uri(reverse("api:ticket-messages", args=[example])),
                "assign": request.build_absolute_uri(reverse("api:ticket-assign", args=[example])),
                "status": request.build_absolute_uri(reverse("api:ticket-status", args=[example])),
            }
        )
