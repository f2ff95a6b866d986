"""Chat test helpers shared by unit, integration and browser tests: a widget, an online agent, signed tokens."""

import time

import pytest
from django.utils import timezone

from channels_app.models import ChatWidget
from channels_app.tokens import context_token_sign
from tests.factories import make_agent

SECRET = "shop-widget-secret-for-tests-0123456789"


@pytest.fixture
def widget(shop, queue):
    shop.widget_secret = SECRET
    shop.save(update_fields=["widget_secret"])
    return ChatWidget.objects.create(shop=shop, queue=queue, allowed_origins=["https://shop.example.com"])


@pytest.fixture
def online_agent(queue):
    agent = make_agent(queue, username="chat-agent")
    agent.agent_profile.presence_changed_at = timezone.now()
    agent.agent_profile.save(update_fields=["presence_changed_at"])
    return agent


def sign(payload: dict | None = None, **claims) -> str:
    body = {"sub": "u-1001", "name": "李雷", "email": "lilei@example.com", "exp": int(time.time()) + 600}
    body.update(payload or {})
    body.update(claims)
    return context_token_sign(body, SECRET)
