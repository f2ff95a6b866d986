"""Building blocks shared by the tickets app's admin modules."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db import models, transaction
from django.forms import Form
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from guardian.admin import AdminGroupObjectPermissionsForm, AdminUserObjectPermissionsForm, GuardedModelAdminMixin

from helpdesk.audit import audit_record
from tickets.errors import TicketError

_REJECTION_ATTR = "_carddesk_service_rejection"


class ServiceRejected(Exception):
    """Raised from save_model when a service refused the change; carries the domain error."""

    def __init__(self, error: TicketError):
        super().__init__(error.message)
        self.error = error


class ServiceFormAdminMixin:
    """Change forms whose saves go through services (which are the validators, STYLE.md habit 2).

    When a service refuses, save_model raises ServiceRejected: the admin's transaction rolls back everything
    this save did, and the form is rendered again with the service's message on the field it names. The
    form class must derive from `tickets.admin.forms.ServiceModelForm`.
    """

    def changeform_view(
        self, request: HttpRequest, object_id: str | None = None, form_url: str = "", extra_context: Any = None
    ) -> HttpResponse:
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except ServiceRejected as rejected:
            setattr(request, _REJECTION_ATTR, rejected.error)
            return super().changeform_view(request, object_id, form_url, extra_context)

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> type[Form]:
        form = super().get_form(request, obj, change=change, **kwargs)
        rejection = getattr(request, _REJECTION_ATTR, None)
        if rejection is None:
            return form
        return type(form.__name__, (form,), {"service_rejection": rejection})


class ScopedRelatedFieldListFilter(admin.RelatedFieldListFilter):
    """Offers only the related objects the user may see.

    The stock filter lists every row of the related table (every shop's name to a merchant); this one asks
    the related model's admin, whose get_queryset is scoped by the policy and joins what `str()` needs.
    """

    def field_choices(self, field: models.Field, request: HttpRequest, model_admin: admin.ModelAdmin) -> list:
        related_admin = model_admin.admin_site.get_model_admin(field.related_model)
        queryset = related_admin.get_queryset(request)
        ordering = self.field_admin_ordering(field, request, model_admin)
        if ordering:
            queryset = queryset.order_by(*ordering)
        return [(obj.pk, str(obj)) for obj in queryset]


def _audited_grant_form(base: type[Form], actor: Any, codenames: tuple[str, ...], holder_attr: str) -> type[Form]:
    offered = frozenset(codenames)

    class AuditedGrantForm(base):
        """Offers only the meaningful object permissions and audits every grant and revocation."""

        def get_obj_perms_field_choices(self) -> list[tuple[str, str]]:
            return [(code, name) for code, name in super().get_obj_perms_field_choices() if code in offered]

        def save_obj_perms(self) -> None:
            with transaction.atomic():
                before = set(self.get_obj_perms_field_initial()) & offered
                super().save_obj_perms()
                after = set(self.get_obj_perms_field_initial()) & offered
                if before == after:
                    return
                audit_record(
                    actor=actor,
                    action=f"{self.obj._meta.model_name}.grant",
                    obj=self.obj,
                    changes={
                        holder_attr: str(getattr(self, holder_attr)),
                        "added": sorted(after - before),
                        "removed": sorted(before - after),
                    },
                )

    return AuditedGrantForm


class GrantsAdminMixin(GuardedModelAdminMixin):
    """Guardian's object-permission screens, limited to `grantable_perms` and audited.

    Guardian lets whoever holds the model's global change permission (supervisors) use the screens; others
    (a merchant owner editing their own shop) get the plain change form without the link.
    """

    grantable_perms: tuple[str, ...] = ()

    def get_obj_perms_manage_user_form(self, request: HttpRequest) -> type[Form]:
        return _audited_grant_form(AdminUserObjectPermissionsForm, request.user, self.grantable_perms, "user")

    def get_obj_perms_manage_group_form(self, request: HttpRequest) -> type[Form]:
        return _audited_grant_form(AdminGroupObjectPermissionsForm, request.user, self.grantable_perms, "group")

    def render_change_form(
        self,
        request: HttpRequest,
        context: dict[str, Any],
        add: bool = False,
        change: bool = False,
        form_url: str = "",
        obj: Any = None,
    ) -> TemplateResponse:
        response = super().render_change_form(request, context, add=add, change=change, form_url=form_url, obj=obj)
        if add or not self.has_change_permission(request):
            opts = self.opts
            response.template_name = [
                f"admin/{opts.app_label}/{opts.model_name}/change_form.html",
                f"admin/{opts.app_label}/change_form.html",
                "admin/change_form.html",
            ]
        return response
