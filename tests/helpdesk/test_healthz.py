import pytest


@pytest.mark.django_db
def test_healthz_is_200_when_postgres_and_redis_answer(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "postgres": "ok", "redis": "ok"}
    assert response["X-Request-ID"]


@pytest.mark.django_db
def test_healthz_is_503_naming_redis_when_it_is_down(client, settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens on port 1
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }
    response = client.get("/healthz")  # Django's setting_changed handler rebuilt the cache connections
    assert response.status_code == 503
    assert response.json()["redis"] == "unavailable"
    assert response.json()["postgres"] == "ok"


def test_request_id_is_kept_when_sane_and_replaced_when_not(client, db):
    assert client.get("/healthz", HTTP_X_REQUEST_ID="abc12345-trace")["X-Request-ID"] == "abc12345-trace"
    assert client.get("/healthz", HTTP_X_REQUEST_ID="<script>")["X-Request-ID"] != "<script>"
