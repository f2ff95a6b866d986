"""factory_boy factories. Tickets and messages are built through the real services (STYLE.md habit 12)."""

from __future__ import annotations

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from guardian.shortcuts import assign_perm

from helpdesk.models import Shop
from helpdesk.roles import GROUP_NAMES, Role
from tickets import services
from tickets.models import AgentProfile, Category, Customer, Queue, Ticket

User = get_user_model()


class ShopFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Shop
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"Shop {n}")
    slug = factory.Sequence(lambda n: f"shop-{n}")
    widget_secret = "whsec-test-0123456789"


class QueueFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Queue

    name = factory.Sequence(lambda n: f"Queue {n}")
    slug = factory.Sequence(lambda n: f"queue-{n}")


class CategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Category

    name = factory.Sequence(lambda n: f"Category {n}")
    slug = factory.Sequence(lambda n: f"category-{n}")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.django.Password("pw-test-123")


def make_user(role: str | None = None, *, username: str | None = None, **kwargs) -> User:
    user = UserFactory(**({"username": username} if username else {}), **kwargs)
    if role:
        user.groups.add(Group.objects.get(name=GROUP_NAMES[role]))
        if role in {Role.SUPERVISOR, Role.AGENT, Role.MERCHANT}:
            user.is_staff = True
            user.save(update_fields=["is_staff"])
    return User.objects.get(pk=user.pk)  # fresh object: no cached permissions


def make_agent(*queues: Queue, username: str | None = None) -> User:
    user = make_user(Role.AGENT, username=username)
    AgentProfile.objects.create(user=user, display_name=user.username.title(), presence="online")
    for queue in queues:
        assign_perm("tickets.work_queue", user, queue)
    return User.objects.get(pk=user.pk)


def make_merchant(shop: Shop, *, owner: bool = False, username: str | None = None) -> User:
    user = make_user(Role.MERCHANT, username=username)
    assign_perm("helpdesk.access_shop", user, shop)
    if owner:
        assign_perm("helpdesk.manage_shop", user, shop)
    return User.objects.get(pk=user.pk)


def make_integrator(shop: Shop, *, username: str | None = None) -> User:
    user = make_user(Role.INTEGRATOR, username=username)
    assign_perm("helpdesk.access_shop", user, shop)
    return User.objects.get(pk=user.pk)


def make_customer(shop: Shop, *, user: User | None = None, **fields) -> Customer:
    defaults = {"external_id": f"u{Customer.objects.count() + 1}", "name": "张三", "email": "zhangsan@example.com"}
    defaults.update(fields)
    customer = services.customer_upsert(shop=shop, actor=None, **defaults)
    if user is not None:
        customer.user = user
        customer.save(update_fields=["user"])
    return customer


def make_ticket(
    *,
    shop: Shop | None = None,
    queue: Queue | None = None,
    customer: Customer | None = None,
    subject: str = "付款成功但没有收到卡密",
    body: str = "我付款了，订单一直显示待发货。",
    **kwargs,
) -> Ticket:
    shop = shop or ShopFactory()
    customer = customer or make_customer(shop)
    return services.ticket_create(
        shop=shop, actor=None, customer=customer, subject=subject, body=body, queue=queue, **kwargs
    )
