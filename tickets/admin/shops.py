"""Shop admin. Registered from the tickets app because its scope comes from tickets.permissions.ShopPolicy
(the core under helpdesk/ imports no app, DESIGN.md §2)."""

from __future__ import annotations

from django.contrib import admin
from django.db import models
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from helpdesk.admin import AuditedAdminMixin, NotFoundAdminMixin
from helpdesk.models import Shop
from tickets.admin.common import GrantsAdminMixin
from tickets.admin.scoping import shops_visible_to


@admin.register(Shop)
class ShopAdmin(NotFoundAdminMixin, AuditedAdminMixin, GrantsAdminMixin, admin.ModelAdmin):
    """Supervisors manage every shop and grant access to it; a merchant sees their own shop, and its owner
    (object permission `helpdesk.manage_shop`) may edit its name, callback URL and language."""

    grantable_perms = ("access_shop", "manage_shop")
    list_display = ["name", "slug", "is_active", "default_language", "order_callback_url", "masked_widget_secret"]
    list_filter = ["is_active", "default_language"]
    search_fields = ["name", "slug"]
    fields = [
        "name",
        "slug",
        "default_language",
        "order_callback_url",
        "is_active",
        "masked_widget_secret",
        "created_at",
        "updated_at",
    ]
    readonly_fields = ["masked_widget_secret", "created_at", "updated_at"]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    def get_queryset(self, request: HttpRequest) -> QuerySet[Shop]:
        return shops_visible_to(request.user, super().get_queryset(request))

    def _manages_all_shops(self, request: HttpRequest) -> bool:
        return super().has_change_permission(request)

    def has_change_permission(self, request: HttpRequest, obj: Shop | None = None) -> bool:
        if self._manages_all_shops(request):
            return True
        return obj is not None and request.user.has_perm("helpdesk.manage_shop", obj)

    def get_readonly_fields(self, request: HttpRequest, obj: Shop | None = None) -> list[str]:
        fields = list(super().get_readonly_fields(request, obj))
        if not self._manages_all_shops(request):
            fields += ["slug", "is_active"]  # a shop's owner does not rename its URL key or switch it off
        return fields

    @admin.display(description=_("widget signing secret"))
    def masked_widget_secret(self, obj: Shop) -> str:
        return obj.widget_secret.masked if obj.widget_secret else "—"
