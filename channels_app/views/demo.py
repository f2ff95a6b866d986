"""A stand-in for a shop's own site: an order page that embeds the widget with a signed context token.

What a shop's platform does on its pages, shown end to end (and used by the browser tests). Only where demo
data is allowed (never under production settings).
"""

from __future__ import annotations

import time

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from channels_app.models import ChatWidget
from channels_app.tokens import context_token_sign
from tickets.models import Customer, Order


def demo_page(request: HttpRequest) -> HttpResponse:
    if not getattr(settings, "DEMO_DATA_ALLOWED", False):
        raise Http404
    widgets = ChatWidget.objects.select_related("shop").filter(is_enabled=True)
    if request.GET.get("shop"):
        widgets = widgets.filter(shop__slug=request.GET["shop"])
    widget = widgets.order_by("id").first()
    if widget is None:
        raise Http404
    customers = Customer.objects.filter(shop=widget.shop).exclude(external_id="")
    if request.GET.get("customer"):
        customers = customers.filter(external_id=request.GET["customer"])
    customer = customers.order_by("id").first()
    token = ""
    orders = []
    if customer is not None and request.GET.get("anonymous") != "1":
        orders = list(Order.objects.filter(customer=customer).order_by("-id")[:3])
        payload = {
            "sub": customer.external_id,
            "name": customer.name,
            "email": customer.email,
            "tier": customer.tier,
            "exp": int(time.time()) + 3600,
            "orders": [
                {"order_no": o.order_no, "product": o.product, "amount": str(o.amount), "currency": o.currency,
                 "payment_status": o.payment_status, "delivery_status": o.delivery_status}
                for o in orders
            ],
        }  # fmt: skip
        token = context_token_sign(payload, widget.shop.widget_secret.reveal())
    lang = request.GET.get("lang") if request.GET.get("lang") in {"zh-hans", "en"} else widget.shop.default_language
    return render(
        request,
        "chat/demo.html",
        {"widget": widget, "customer": customer if token else None, "orders": orders, "token": token, "lang": lang},
    )
