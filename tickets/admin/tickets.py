"""Ticket admin: lists scoped by TicketPolicy, every change through tickets.services."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.db.models import Model, QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from helpdesk.admin import NotFoundAdminMixin
from helpdesk.roles import Role
from tickets import services
from tickets.admin.common import ScopedRelatedFieldListFilter, ServiceFormAdminMixin, ServiceRejected
from tickets.admin.forms import AssignToForm, TicketAdminForm, desk_users
from tickets.admin.reveal import REVEAL_LIMIT, RevealedKeys, reveal_response
from tickets.admin.threads import MessageInline
from tickets.errors import TicketError
from tickets.models import Category, Queue, Status, Tag, Ticket
from tickets.permissions import TicketPolicy


class AssigneeFilter(admin.SimpleListFilter):
    """Me / unassigned / assigned: useful to everyone and lists no account names."""

    title = _("assignee")
    parameter_name = "assigned"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, Any]]:
        return [("me", _("Assigned to me")), ("none", _("Unassigned")), ("any", _("Assigned"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Ticket]) -> QuerySet[Ticket]:
        value = self.value()
        if value == "me":
            return queryset.filter(assignee_id=request.user.pk)
        if value == "none":
            return queryset.filter(assignee__isnull=True)
        if value == "any":
            return queryset.filter(assignee__isnull=False)
        return queryset


def _status_action(status: Status) -> Callable[..., None]:
    def action(modeladmin: TicketAdmin, request: HttpRequest, queryset: QuerySet[Ticket]) -> None:
        modeladmin.for_each_ticket(
            request,
            queryset,
            lambda ticket: services.ticket_change_status(ticket=ticket, actor=request.user, status=status),
        )

    action.__name__ = f"set_status_{status.value}"
    description = format_lazy(_("Set status to “{status}”"), status=status.label)
    return admin.action(description=description, permissions=["change"])(action)


_STATUS_ACTIONS = [
    _status_action(s) for s in (Status.OPEN, Status.PENDING, Status.ON_HOLD, Status.SOLVED, Status.CLOSED)
]

# Shown read-only: set by channels, services and the SLA machinery, never typed in.
_READ_ONLY = [
    "reference",
    "shop",
    "customer",
    "order",
    "order_card_keys",
    "channel",
    "language",
    "created_at",
    "updated_at",
    "first_response_at",
    "last_customer_message_at",
    "last_agent_message_at",
    "solved_at",
    "closed_at",
    "merged_into",
    "csat_score",
    "csat_comment",
    "sentiment",
]


@admin.register(Ticket)
class TicketAdmin(ServiceFormAdminMixin, NotFoundAdminMixin, admin.ModelAdmin):
    form = TicketAdminForm
    list_display = [
        "reference",
        "subject",
        "shop",
        "status",
        "priority",
        "customer",
        "queue",
        "assignee",
        "category",
        "tag_list",
        "updated_at",
    ]
    list_display_links = ["reference", "subject"]
    list_filter = [
        "status",
        "priority",
        "channel",
        AssigneeFilter,
        ("queue", ScopedRelatedFieldListFilter),
        ("category", ScopedRelatedFieldListFilter),
        ("shop", ScopedRelatedFieldListFilter),
    ]
    search_fields = [
        "reference",
        "subject",
        "customer__name",
        "customer__email",
        "customer__external_id",
        "order__order_no",
    ]
    date_hierarchy = "created_at"
    show_full_result_count = False  # one COUNT(*) over a large table per page is enough
    list_select_related = ["shop", "customer", "queue", "assignee", "category", "category__parent"]
    # Customer and order are not editable: no service moves a ticket to another customer or order.
    autocomplete_fields = ["queue", "category", "tags"]
    readonly_fields = _READ_ONLY
    fieldsets = [
        (None, {"fields": ["reference", "subject", "shop", "customer", "order", "order_card_keys", "channel"]}),
        (_("Handling"), {"fields": ["status", "priority", "queue", "assignee", "category", "tags", "language"]}),
        (
            _("Timeline"),
            {
                "fields": [
                    "created_at",
                    "updated_at",
                    "first_response_at",
                    "last_customer_message_at",
                    "last_agent_message_at",
                    "solved_at",
                    "closed_at",
                    "merged_into",
                ]
            },
        ),
        (_("Satisfaction"), {"fields": ["csat_score", "csat_comment", "sentiment"]}),
    ]
    inlines = [MessageInline]
    actions = [
        "assign_to_me",
        "assign_to",
        "unassign",
        *_STATUS_ACTIONS,
        "merge_tickets",
        "reveal_card_keys",
    ]

    # --- scope and permissions ---------------------------------------------------------------------

    def get_queryset(self, request: HttpRequest) -> QuerySet[Ticket]:
        return TicketPolicy.visible_to(request.user, super().get_queryset(request)).prefetch_related("tags")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # tickets come from channels (ticket_create), never from admin

    def has_delete_permission(self, request: HttpRequest, obj: Ticket | None = None) -> bool:
        return False  # tickets are closed or merged, never deleted

    def has_change_permission(self, request: HttpRequest, obj: Ticket | None = None) -> bool:
        if not super().has_change_permission(request, obj):
            return False
        return obj is None or TicketPolicy.can_change_fields(request.user, obj)

    def has_desk_permission(self, request: HttpRequest) -> bool:
        """Assigning and merging are desk work (agents, supervisors); merchants answer and set status only."""
        scope = TicketPolicy.scope(request.user)
        return self.has_change_permission(request) and (scope.is_supervisor or Role.AGENT in scope.roles)

    def has_reveal_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("tickets.reveal_secrets")

    def _can_pick(self, request: HttpRequest, model: type[Model]) -> bool:
        # The autocomplete widget searches through the related admin, which needs its view permission.
        return self.admin_site.get_model_admin(model).has_view_permission(request)

    def get_readonly_fields(self, request: HttpRequest, obj: Ticket | None = None) -> list[str]:
        fields = list(super().get_readonly_fields(request, obj))
        user = request.user
        if obj is not None and not TicketPolicy.can_assign(user, obj):
            fields.append("assignee")
        if obj is not None and not TicketPolicy.can_change_status(user, obj):
            fields.append("status")
        fields += [
            name
            for name, model in (("queue", Queue), ("category", Category), ("tags", Tag))
            if not self._can_pick(request, model)
        ]
        return fields

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "assignee":
            # A select of desk accounts: users are not searchable in this admin (supervisors hold no
            # auth.view_user), and ticket_assign checks that the chosen one works the queue.
            kwargs["queryset"] = desk_users()
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    # --- saving through services -------------------------------------------------------------------

    def save_model(self, request: HttpRequest, obj: Ticket, form: TicketAdminForm, change: bool) -> None:
        """Never obj.save(): each changed field goes through its service, which validates and audits it."""
        data, changed = form.cleaned_data, set(form.changed_data)
        # A fresh row: the policy must judge the ticket as stored, not as the form just mutated it.
        ticket = Ticket.objects.select_related("customer").get(pk=obj.pk)
        update: dict[str, Any] = {
            name: data[name] for name in ("subject", "priority", "category", "queue") if name in changed
        }
        if "tags" in changed:
            update["tags"] = [tag.name for tag in data["tags"]]
        try:
            if update:
                ticket = services.ticket_update(ticket=ticket, actor=request.user, **update)
            if "assignee" in changed:
                ticket = services.ticket_assign(ticket=ticket, actor=request.user, assignee=data["assignee"])
            if "status" in changed:
                ticket = services.ticket_change_status(ticket=ticket, actor=request.user, status=data["status"])
        except TicketError as error:
            raise ServiceRejected(error) from error

    def save_related(self, request: HttpRequest, form: Any, formsets: list, change: bool) -> None:
        # Not form.save_m2m(): the tags went through ticket_update in save_model. The inline is read-only.
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)

    # --- columns -----------------------------------------------------------------------------------

    @admin.display(description=_("tags"))
    def tag_list(self, obj: Ticket) -> str:
        return ", ".join(tag.name for tag in obj.tags.all())

    @admin.display(description=_("delivered card keys"))
    def order_card_keys(self, obj: Ticket) -> str:
        order = obj.order
        return order.card_keys.masked if order is not None and order.card_keys else "—"

    # --- actions -----------------------------------------------------------------------------------

    def for_each_ticket(self, request: HttpRequest, queryset: QuerySet[Ticket], apply: Callable[[Ticket], Any]) -> int:
        """Apply a service to each ticket; a refusal is reported by reference and the others go on."""
        done = 0
        for ticket in queryset.prefetch_related(None).select_related("customer").order_by("pk"):
            try:
                apply(ticket)
            except TicketError as error:
                self.message_user(
                    request,
                    _("%(ticket)s: %(error)s") % {"ticket": ticket.reference, "error": error.message},
                    messages.ERROR,
                )
            else:
                done += 1
        if done:
            self.message_user(
                request,
                ngettext("%(count)d ticket updated.", "%(count)d tickets updated.", done) % {"count": done},
                messages.SUCCESS,
            )
        return done

    @admin.action(description=_("Assign to me"), permissions=["desk"])
    def assign_to_me(self, request: HttpRequest, queryset: QuerySet[Ticket]) -> None:
        self.for_each_ticket(
            request, queryset, lambda t: services.ticket_assign(ticket=t, actor=request.user, assignee=request.user)
        )

    @admin.action(description=_("Unassign"), permissions=["desk"])
    def unassign(self, request: HttpRequest, queryset: QuerySet[Ticket]) -> None:
        self.for_each_ticket(
            request, queryset, lambda t: services.ticket_assign(ticket=t, actor=request.user, assignee=None)
        )

    @admin.action(description=_("Assign to…"), permissions=["desk"])
    def assign_to(self, request: HttpRequest, queryset: QuerySet[Ticket]) -> HttpResponse | None:
        form = AssignToForm(request.POST if "apply" in request.POST else None)
        if form.is_bound and form.is_valid():
            assignee = form.cleaned_data["assignee"]
            self.for_each_ticket(
                request, queryset, lambda t: services.ticket_assign(ticket=t, actor=request.user, assignee=assignee)
            )
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": _("Assign tickets"),
            "opts": self.opts,
            "form": form,
            "tickets": list(queryset.prefetch_related(None).order_by("pk")),
            "action": "assign_to",
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/tickets/ticket/assign_to.html", context)

    @admin.action(description=_("Merge the two selected tickets (newer into older)"), permissions=["desk"])
    def merge_tickets(self, request: HttpRequest, queryset: QuerySet[Ticket]) -> None:
        tickets = list(queryset.prefetch_related(None).select_related("customer").order_by("created_at", "pk")[:3])
        if len(tickets) != 2:
            self.message_user(request, _("Select exactly two tickets to merge."), messages.ERROR)
            return
        target, source = tickets
        try:
            services.ticket_merge(source=source, target=target, actor=request.user)
        except TicketError as error:
            self.message_user(
                request,
                _("%(source)s could not be merged into %(target)s: %(error)s")
                % {"source": source.reference, "target": target.reference, "error": error.message},
                messages.ERROR,
            )
            return
        self.message_user(
            request,
            _("%(source)s was merged into %(target)s.") % {"source": source.reference, "target": target.reference},
            messages.SUCCESS,
        )

    @admin.action(description=_("Reveal the card keys of the tickets' orders"), permissions=["reveal"])
    def reveal_card_keys(self, request: HttpRequest, queryset: QuerySet[Ticket]) -> HttpResponse | None:
        tickets = list(
            queryset.prefetch_related(None).select_related("order", "customer").order_by("pk")[: REVEAL_LIMIT + 1]
        )
        if len(tickets) > REVEAL_LIMIT:
            self.message_user(
                request, _("Reveal at most %(limit)d at a time.") % {"limit": REVEAL_LIMIT}, messages.ERROR
            )
            return None
        rows = []
        for ticket in tickets:
            try:
                keys = services.order_secrets_reveal(ticket=ticket, actor=request.user)
            except TicketError as error:
                self.message_user(
                    request,
                    _("%(ticket)s: %(error)s") % {"ticket": ticket.reference, "error": error.message},
                    messages.ERROR,
                )
                continue
            rows.append(RevealedKeys(ticket.reference, ticket.order.order_no if ticket.order_id else "", keys))
        return reveal_response(request, self, rows)
