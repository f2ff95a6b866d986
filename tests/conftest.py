import contextlib
import uuid

import pytest
from django.utils import translation

from helpdesk import context


@pytest.fixture(autouse=True)
def _request_context():
    """Every test runs as one request: audit events get a request id like production ones."""
    with context.bound(request_id="test-request-0001", ip="127.0.0.1"):
        yield


@pytest.fixture(autouse=True)
def _no_language_left_active():
    """Each test starts in the default language (English under settings.test).

    A request through the test client activates its language in this thread and nothing deactivates it, so
    without this a service call in a later test would speak whatever language an earlier request asked for.
    """
    translation.deactivate()
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def _no_stale_sla_configuration():
    """Tests create and flush SLA policies; no process (this one or a test server) may keep an old copy."""
    from django.core.cache import cache

    from tickets.services.sla import VERSION_KEY, sla_cache_clear

    sla_cache_clear()
    with contextlib.suppress(Exception):  # Redis unreachable: this process's copy is cleared anyway
        cache.set(VERSION_KEY, uuid.uuid4().hex, None)
    yield
    sla_cache_clear()


@pytest.fixture
def shop(db):
    from tests.factories import ShopFactory

    return ShopFactory(name="Star Cards", slug="star-cards")


@pytest.fixture
def other_shop(db):
    from tests.factories import ShopFactory

    return ShopFactory(name="Moon Codes", slug="moon-codes")


@pytest.fixture
def queue(db, shop):
    from tests.factories import QueueFactory

    return QueueFactory(name="Payments", slug="payments")


@pytest.fixture
def other_queue(db):
    from tests.factories import QueueFactory

    return QueueFactory(name="Accounts", slug="accounts")


@pytest.fixture
def agent(queue):
    from tests.factories import make_agent

    return make_agent(queue, username="agent-a")


@pytest.fixture
def supervisor(db):
    from helpdesk.roles import Role
    from tests.factories import make_user

    return make_user(Role.SUPERVISOR, username="boss")


@pytest.fixture
def ticket(shop, queue):
    from tests.factories import make_ticket

    return make_ticket(shop=shop, queue=queue)
