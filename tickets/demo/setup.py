"""The demo desk's structure: staff users, shops, queues, categories, grants and canned replies.

These models have no services yet, so rows are upserted here on their natural keys, and every creation,
change and grant is written to the audit trail like a service would (DESIGN.md invariant 6). Running it
again changes nothing and records nothing, except restoring what drifted from the demo's definition.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any, TypeVar

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import check_password, make_password
from django.contrib.auth.models import AbstractBaseUser, Group
from django.db import models
from django.utils import timezone
from guardian.shortcuts import assign_perm, get_perms

from helpdesk.audit import audit_record
from helpdesk.models import Shop
from helpdesk.roles import GROUP_NAMES, Role
from tickets.demo.canned import CANNED_REPLIES
from tickets.demo.catalog import CATEGORIES, QUEUES, SHOPS, STAFF, StaffSpec
from tickets.models import AgentProfile, CannedReply, Category, Queue

M = TypeVar("M", bound=models.Model)


@dataclass
class Cast:
    """The rows the conversations need, looked up once."""

    users: dict[str, Any] = field(default_factory=dict)  # username -> user
    shops: dict[str, Shop] = field(default_factory=dict)  # slug -> shop
    queues: dict[str, Queue] = field(default_factory=dict)  # slug -> queue
    categories: dict[str, Category] = field(default_factory=dict)  # slug -> category
    agents_by_queue: dict[int, list[Any]] = field(default_factory=dict)  # queue id -> agents working it
    merchant_by_shop: dict[int, Any] = field(default_factory=dict)  # shop id -> owner

    @property
    def supervisor(self):
        return self.users["supervisor"]

    @property
    def portal_user(self):
        return self.users["customer1"]


def upsert(model: type[M], *, lookup: dict[str, Any], values: dict[str, Any], on_create: dict | None = None) -> M:
    """Get the row by its natural key, create it or bring `values` back to the wanted state; audit either.

    `on_create` fields are set only on creation (secrets, live state) and audited by presence, never by value.
    """
    name = model._meta.model_name
    obj = model._default_manager.select_for_update().filter(**lookup).first()
    if obj is None:
        obj = model(**lookup, **values, **(on_create or {}))
        obj.save()
        changes = {**lookup, **values, **dict.fromkeys(on_create or {}, "(set)")}
        audit_record(actor=None, action=f"{name}.create", obj=obj, changes=changes)
        return obj
    changed = {key: value for key, value in values.items() if getattr(obj, key) != value}
    if changed:
        for key, value in changed.items():
            setattr(obj, key, value)
        extra = ["updated_at"] if any(f.name == "updated_at" for f in model._meta.fields) else []
        obj.save(update_fields=[*changed, *extra])
        audit_record(actor=None, action=f"{name}.update", obj=obj, changes=changed)
    return obj


class _DemoPassword:
    """Hash the password once per run and verify each distinct stored hash once.

    PBKDF2 costs ~0.25 s per hash or check: doing it per user would eat the second run's time budget, and
    rewriting an unchanged password would log the demo users out (the session hash depends on it).
    """

    def __init__(self, raw: str):
        self.raw = raw
        self._encoded = ""
        self._checked: dict[str, bool] = {}

    def encoded(self) -> str:
        if not self._encoded:
            self._encoded = make_password(self.raw)
        return self._encoded

    def matches(self, encoded: str) -> bool:
        if encoded not in self._checked:
            self._checked[encoded] = check_password(self.raw, encoded)  # no setter: never rewrites the hash
        return self._checked[encoded]


def _ensure_user(spec: StaffSpec, password: _DemoPassword) -> AbstractBaseUser:
    user_model = get_user_model()
    is_staff = spec.role != Role.CUSTOMER
    values = {
        "first_name": spec.first_name,
        "last_name": spec.last_name,
        "email": f"{spec.username}@carddesk.example.com",
        "is_active": True,
        "is_staff": is_staff,
        # The supervisor is also a superuser so the demo can show every admin screen; its desk rights come
        # from the Supervisors group all the same.
        "is_superuser": spec.role == Role.SUPERVISOR,
    }
    user = user_model.objects.select_for_update().filter(username=spec.username).first()
    if user is None:
        user = upsert(
            user_model, lookup={"username": spec.username}, values=values, on_create={"password": password.encoded()}
        )
    else:
        user = upsert(user_model, lookup={"username": spec.username}, values=values)
        if not password.matches(user.password):
            user.password = password.encoded()
            user.save(update_fields=["password"])
            audit_record(actor=None, action="user.password_reset", obj=user, changes={"password": "(demo password)"})
    group = Group.objects.get(name=GROUP_NAMES[spec.role])
    if not user.groups.filter(pk=group.pk).exists():
        user.groups.add(group)
        audit_record(actor=None, action="user.group_add", obj=user, changes={"group": group.name})
    return user


def _grant(user: AbstractBaseUser, perm: str, obj: models.Model) -> None:
    if perm.split(".", 1)[1] in get_perms(user, obj):
        return
    assign_perm(perm, user, obj)
    audit_record(actor=None, action="permission.grant", obj=obj, changes={"user": user.get_username(), "perm": perm})


def ensure_organisation(*, password: str) -> Cast:
    """Create or restore the demo's structure. Runs inside the caller's transaction."""
    cast = Cast()
    demo_password = _DemoPassword(password)
    for spec in SHOPS:
        shop = upsert(
            Shop,
            lookup={"slug": spec.slug},
            values={"name": spec.name, "default_language": spec.default_language},
            on_create={"widget_secret": secrets.token_urlsafe(32)},
        )
        if not shop.widget_secret:  # someone cleared it: the widget cannot sign contexts without one
            shop.widget_secret = secrets.token_urlsafe(32)
            shop.save(update_fields=["widget_secret", "updated_at"])
            audit_record(actor=None, action="shop.update", obj=shop, changes={"widget_secret": "(set)"})
        cast.shops[spec.slug] = shop

    for spec in QUEUES:
        values = {
            "name": spec.name,
            "skills": list(spec.skills),
            "is_vip": spec.is_vip,
            "shop": None,
            "is_active": True,
        }
        cast.queues[spec.slug] = upsert(Queue, lookup={"slug": spec.slug}, values=values)
    for spec in QUEUES:  # overflow targets exist only after the first pass
        overflow = cast.queues[spec.overflow_to] if spec.overflow_to else None
        values = {"overflow_queue": overflow, "overflow_threshold": spec.overflow_threshold}
        cast.queues[spec.slug] = upsert(Queue, lookup={"slug": spec.slug}, values=values)

    for spec in CATEGORIES:
        values = {
            "name": spec.name,
            "name_en": spec.name_en,
            "default_queue": cast.queues[spec.queue],
            "parent": cast.categories[spec.parent] if spec.parent else None,
            "is_active": True,
        }
        cast.categories[spec.slug] = upsert(Category, lookup={"slug": spec.slug}, values=values)

    staff = {}
    for spec in STAFF:
        user = staff[spec.username] = _ensure_user(spec, demo_password)
        if spec.role == Role.AGENT:
            skills = sorted({skill for slug in spec.queues for skill in cast.queues[slug].skills})
            upsert(
                AgentProfile,
                lookup={"user": user},
                values={
                    "display_name": spec.display_name,
                    "skills": skills,
                    "max_concurrent_chats": spec.max_chats,
                    "language": spec.language,
                },
                # Presence is live state: set it the first time, leave it alone afterwards.
                on_create={"presence": spec.presence, "presence_changed_at": timezone.now()},
            )
            for slug in spec.queues:
                _grant(user, "tickets.work_queue", cast.queues[slug])
        if spec.role == Role.MERCHANT:
            shop = cast.shops[spec.shop]
            _grant(user, "helpdesk.access_shop", shop)
            _grant(user, "helpdesk.manage_shop", shop)

    for spec in CANNED_REPLIES:
        values = {
            "title": spec.title,
            "body": spec.body,
            "category": cast.categories[spec.category] if spec.category else None,
            "shop": None,
            "is_active": True,
        }
        upsert(
            CannedReply,
            lookup={"shortcut": spec.shortcut, "language": spec.language},
            values=values,
            on_create={"created_by": staff["supervisor"]},
        )

    # Fresh user objects: permission and scope caches start empty now that every grant exists.
    user_model = get_user_model()
    usernames = [spec.username for spec in STAFF]
    cast.users = {
        u.username: u for u in user_model.objects.filter(username__in=usernames).select_related("agent_profile")
    }
    for spec in STAFF:
        user = cast.users[spec.username]
        if spec.role == Role.AGENT:
            for slug in spec.queues:
                cast.agents_by_queue.setdefault(cast.queues[slug].pk, []).append(user)
        if spec.role == Role.MERCHANT:
            cast.merchant_by_shop[cast.shops[spec.shop].pk] = user
    return cast
