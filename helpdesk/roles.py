"""Roles are Django groups with global permissions; object scope comes from guardian grants.

- supervisor: sees and changes every ticket; configures the desk in admin.
- agent: works the queues granted to them (or their group) with `tickets.work_queue`.
- merchant: owner or staff of a shop, granted `helpdesk.access_shop` (owners also `manage_shop`).
- integrator: an API user granted `helpdesk.access_shop` on the shops it integrates; reads and creates.
- customer: a portal user linked to Customer rows; sees their own tickets only.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    SUPERVISOR = "supervisor", _("Supervisor")
    AGENT = "agent", _("Agent")
    MERCHANT = "merchant", _("Merchant")
    INTEGRATOR = "integrator", _("Integrator")
    CUSTOMER = "customer", _("Customer")


GROUP_NAMES = {
    Role.SUPERVISOR: "Supervisors",
    Role.AGENT: "Agents",
    Role.MERCHANT: "Merchants",
    Role.INTEGRATOR: "Integrators",
    Role.CUSTOMER: "Customers",
}

# Global (model-level) permissions each role's group holds. Strings, so the core imports no app.
_STAFF_VIEW = [
    "tickets.view_ticket",
    "tickets.change_ticket",
    "tickets.view_message",
    "tickets.view_customer",
    "tickets.view_order",
    "tickets.view_attachment",
]
ROLE_PERMISSIONS: dict[str, list[str]] = {
    Role.SUPERVISOR: [
        "tickets.view_all_tickets",
        "tickets.reveal_secrets",
        "helpdesk.view_auditevent",
        "helpdesk.view_auditcheckpoint",
        "auth.view_user",
        "tickets.change_customer",
        "helpdesk.view_shop",
        "helpdesk.change_shop",
        "tickets.view_queue",
        "tickets.add_queue",
        "tickets.change_queue",
        "tickets.view_agentprofile",
        "tickets.change_agentprofile",
        "tickets.add_agentprofile",
        "tickets.view_category",
        "tickets.add_category",
        "tickets.change_category",
        "tickets.view_tag",
        "tickets.add_tag",
        "tickets.change_tag",
        "tickets.view_cannedreply",
        "tickets.add_cannedreply",
        "tickets.change_cannedreply",
        "tickets.delete_cannedreply",
        "knowledge.view_article",
        "knowledge.add_article",
        "knowledge.change_article",
        "knowledge.view_kbcategory",
        "knowledge.add_kbcategory",
        "knowledge.change_kbcategory",
        "knowledge.delete_kbcategory",
        "knowledge.view_searchlog",
        "knowledge.view_articlefeedback",
        "knowledge.view_searchclick",
        "knowledge.view_kbword",
        *[
            f"tickets.{verb}_{model}"
            for model in ("calendar", "calendarslot", "calendaroverride", "slapolicy", "rule")
            for verb in ("view", "add", "change", "delete")
        ],
        "tickets.view_ruleexecution",
        "tickets.view_slaevent",
        "tickets.view_classifiermodel",
        *_STAFF_VIEW,
    ],
    Role.AGENT: [*_STAFF_VIEW, "tickets.view_cannedreply", "tickets.view_category", "tickets.view_tag"],
    Role.MERCHANT: [*_STAFF_VIEW, "helpdesk.view_shop"],
    Role.INTEGRATOR: ["tickets.view_ticket", "tickets.add_ticket", "tickets.view_message"],
    Role.CUSTOMER: [],
}


def roles_sync() -> None:
    """Create the role groups and give them their global permissions (idempotent; run after migrate)."""
    from django.contrib.auth.models import Group, Permission

    for role, group_name in GROUP_NAMES.items():
        group, _created = Group.objects.get_or_create(name=group_name)
        wanted = []
        for dotted in ROLE_PERMISSIONS[role]:
            app_label, codename = dotted.split(".")
            perm = Permission.objects.filter(content_type__app_label=app_label, codename=codename).first()
            if perm is not None:
                wanted.append(perm)
        group.permissions.add(*wanted)


def user_roles(user) -> set[str]:
    if not getattr(user, "is_authenticated", False):
        return set()
    names = {name: role for role, name in GROUP_NAMES.items()}
    roles = {names[g] for g in user.groups.values_list("name", flat=True) if g in names}
    if user.is_superuser:
        roles.add(Role.SUPERVISOR)
    return roles
