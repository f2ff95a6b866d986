"""Which shop a public help-centre request is about."""

from __future__ import annotations

from django.http import HttpRequest

from helpdesk.models import Shop

SESSION_KEY = "help_shop_id"


def help_shop_for(request: HttpRequest) -> Shop | None:
    """`?shop=<slug>` (remembered in the session), else the remembered one, else the first active shop.

    A single-shop install never needs the parameter; a platform links each merchant's help centre with it.
    """
    cached = getattr(request, "_help_shop", False)
    if cached is not False:
        return cached
    shops = Shop.objects.filter(is_active=True)
    shop = None
    slug = request.GET.get("shop")
    if slug:
        shop = shops.filter(slug=slug).first()
    if shop is None and hasattr(request, "session") and request.session.get(SESSION_KEY):
        shop = shops.filter(pk=request.session[SESSION_KEY]).first()
    if shop is None:
        shop = shops.order_by("id").first()
    if shop is not None and hasattr(request, "session") and request.session.get(SESSION_KEY) != shop.pk:
        request.session[SESSION_KEY] = shop.pk
    request._help_shop = shop
    return shop


def help_shop(request: HttpRequest) -> dict:
    """Context processor: the shop whose help centre is being shown (lazy: only queried when used)."""
    from django.utils.functional import SimpleLazyObject

    return {"help_shop": SimpleLazyObject(lambda: help_shop_for(request))}
