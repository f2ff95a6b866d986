"""Console view tests run in English (Django's own messages are translated too) and share a few people."""

import pytest


@pytest.fixture(autouse=True)
def _english(client, settings):
    """The console defaults to Chinese; the assertions read English messages, so ask for English."""
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    """Attachments posted through the reply form are written under the test's own directory."""
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def stranger(other_queue):
    """An agent who works another queue: the `queue` fixture's tickets are not theirs to see."""
    from tests.factories import make_agent

    return make_agent(other_queue, username="stranger")


@pytest.fixture
def colleague(queue):
    from tests.factories import make_agent

    return make_agent(queue, username="agent-b")
