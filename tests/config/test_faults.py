"""Faults outside single sign-on and SCIM (issue 10, item 6): the API and pages answer a
PostgreSQL outage with 503 in their format; every Redis client has short timeouts, so a
frozen Redis costs a request well under a second; /healthz answers quickly with its status."""
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.test import RequestFactory

from tests.conftest import client_for, database_down

pytestmark = pytest.mark.django_db


def test_api_with_the_database_down_answers_its_json_error(admin_user, org):
    client = client_for(admin_user)
    with database_down():
        response = client.get("/api/v1/organizations")
    assert response.status_code == 503 and int(response["Retry-After"]) > 0
    assert response["Content-Type"] == "application/json"
    assert response.json()["code"] == "unavailable"


def test_page_with_the_database_down_answers_a_503_page(admin_user, org):
    client = client_for(admin_user)
    with database_down():
        response = client.get("/orgs/acme/")
    assert response.status_code == 503 and int(response["Retry-After"]) > 0
    assert response["Content-Type"].startswith("text/html") and b"Briefly unavailable" in response.content


def test_an_outage_met_in_a_middleware_answers_503_not_500():
    from django.db import OperationalError

    from config.faults import server_error

    request = RequestFactory().get("/orgs/acme/")
    try:
        raise OperationalError("connection refused")
    except OperationalError:
        response = server_error(request)
    assert response.status_code == 503 and response["Retry-After"]
    try:
        raise RuntimeError("a bug")
    except RuntimeError:
        assert server_error(request).status_code == 500


def test_healthz_reports_each_store(client, redis_cache):
    assert json.loads(client.get("/healthz").content) == {"status": "ok", "database": "ok", "cache": "ok"}
    redis_cache.freeze()
    started = time.monotonic()
    response = client.get("/healthz")
    assert time.monotonic() - started < 1.5
    assert response.status_code == 200 and response.json()["cache"] == "unavailable"
    redis_cache.thaw()
    with database_down():
        response = client.get("/healthz")
    assert response.status_code == 503 and response.json()["database"] == "unavailable"


def test_a_frozen_redis_costs_a_cache_call_at_most_the_timeout(redis_cache, settings):
    from django.core.cache import cache

    cache.set("k", 1)
    redis_cache.freeze()
    started = time.monotonic()
    with pytest.raises(Exception):  # noqa: B017 - redis' TimeoutError
        cache.get("k")
    assert time.monotonic() - started < settings.REDIS_TIMEOUT_SECONDS + 0.5


def test_every_redis_client_has_the_short_timeouts():
    """With REDIS_URL set: the cache, Celery's broker, the SCIM request log and rate limit."""
    root = Path(__file__).resolve().parents[2]
    code = ("import django, json; django.setup(); from django.conf import settings; from config.celery import app; "
            "from scim import limits, request_log; "
            "print(json.dumps([settings.CACHES['default']['OPTIONS'], app.conf.broker_transport_options, "
            "request_log._redis().connection_pool.connection_kwargs['socket_timeout'], "
            "limits._limiter().storage.get_connection().connection_pool.connection_kwargs['socket_timeout'], "
            "settings.REDIS_CLIENT_OPTIONS]))")
    env = {**os.environ, "REDIS_URL": "redis://127.0.0.1:1/0", "REDIS_TIMEOUT_SECONDS": "0.7",
           "DJANGO_SETTINGS_MODULE": "tests.settings"}
    out = subprocess.run([sys.executable, "-c", code], cwd=root, env=env, capture_output=True, text=True, check=True)
    cache_options, broker_options, log_timeout, limit_timeout, expected = json.loads(
        out.stdout.strip().splitlines()[-1])
    assert expected == {"socket_timeout": 0.7, "socket_connect_timeout": 0.7}
    assert cache_options == expected and broker_options == expected and log_timeout == limit_timeout == 0.7


def test_a_stalled_postgresql_costs_a_request_the_connect_timeout_not_minutes(monkeypatch):
    """A server that takes the TCP connection and never answers (a host half-restarted, a
    hung pooler): the connection attempt ends after DB_CONNECT_TIMEOUT_SECONDS."""
    import runpy
    import socket

    from django.db import OperationalError
    from django.db.backends.postgresql.base import DatabaseWrapper

    stalled = socket.socket()
    stalled.bind(("127.0.0.1", 0))
    stalled.listen(8)  # the kernel completes the handshake; nothing ever reads or answers
    port = stalled.getsockname()[1]
    monkeypatch.setenv("DEBUG", "1")
    monkeypatch.setenv("DATABASE_URL", f"postgres://postgres@127.0.0.1:{port}/gatehouse")
    monkeypatch.setenv("DB_CONNECT_TIMEOUT_SECONDS", "1")
    database = runpy.run_path(str(Path(__file__).resolve().parents[2] / "config" / "settings.py"))["DATABASES"]
    assert database["default"]["OPTIONS"]["connect_timeout"] == 1
    wrapper = DatabaseWrapper({**database["default"], "TIME_ZONE": None, "AUTOCOMMIT": True, "ATOMIC_REQUESTS": False,
                               "TEST": {}}, alias="stalled")
    started = time.monotonic()
    try:
        with pytest.raises(OperationalError):
            wrapper.ensure_connection()
    finally:
        stalled.close()
    assert time.monotonic() - started < 4  # libpq waits at least 2 s whatever the setting
