"""Directory Sync with Redis or PostgreSQL down (issue 10, item 6): the rate limiter fails
open, an outage answers SCIM JSON 503 with Retry-After, and the request log's warning is
rate-limited."""
import logging

import pytest

from scim import request_log
from scim.errors import ERROR_SCHEMA, SCIM_CONTENT_TYPE
from scim.models import DirectoryUser
from tests.conftest import database_down

from .conftest import user_body

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("outage", ["kill", "freeze"])
def test_rate_limiter_fails_open_with_redis_down_and_says_so_once(scim, redis_cache, caplog, fresh_fault_log,
                                                                  settings, outage):
    settings.SCIM_RATE_LIMIT = 1  # the second request would be refused, were Redis up
    getattr(redis_cache, outage)()
    with caplog.at_level(logging.WARNING, logger="scim.limits"):
        first = scim.post("Users", user_body("a@acme.test"))
        second = scim.post("Users", user_body("b@acme.test"))
    assert (first.status_code, second.status_code) == (201, 201), first.content
    assert DirectoryUser.objects.filter(org=scim.org).count() == 2
    warnings = [r for r in caplog.records if "rate limit" in r.getMessage()]
    assert len(warnings) == 1 and warnings[0].exc_info


def test_post_with_the_database_down_answers_scim_503(scim):
    with database_down():
        response = scim.post("Users", user_body("down@acme.test"))
    assert response.status_code == 503
    assert response["Content-Type"].startswith(SCIM_CONTENT_TYPE) and int(response["Retry-After"]) > 0
    body = response.json()
    assert body["schemas"] == [ERROR_SCHEMA] and body["status"] == "503"
    assert not DirectoryUser.objects.filter(org=scim.org).exists()
    # The IdP retries, and the change is made once.
    assert scim.post("Users", user_body("down@acme.test")).status_code == 201
    assert DirectoryUser.objects.filter(org=scim.org).count() == 1


def test_request_log_warns_once_a_minute_without_a_traceback_per_request(caplog, fresh_fault_log, monkeypatch,
                                                                        settings):
    import redis

    dead = redis.Redis.from_url("redis://127.0.0.1:1/0", **settings.REDIS_CLIENT_OPTIONS)  # nothing listens there
    monkeypatch.setattr(request_log, "_redis", lambda: dead)
    with caplog.at_level(logging.WARNING, logger="scim.request_log"):
        for _ in range(20):
            request_log.record(org_id=1, method="POST", path="/scim/v2/acme/Users", status=201)
    records = [r for r in caplog.records if r.name == "scim.request_log"]
    assert len(records) == 1 and records[0].exc_info


def test_warnings_after_the_first_carry_no_traceback_and_count_the_rest(caplog, fresh_fault_log, monkeypatch):
    from config import faults

    log = logging.getLogger("tests.faults")
    clock = iter([0.0, 1.0, 2.0, 61.0])
    monkeypatch.setattr(faults.time, "monotonic", lambda: next(clock))
    with caplog.at_level(logging.WARNING, logger="tests.faults"):
        for _ in range(4):
            try:
                raise ConnectionError("refused")
            except ConnectionError:
                faults.warn_throttled(log, "k", "store down")
    first, later = [r for r in caplog.records if r.name == "tests.faults"]
    assert first.exc_info and not later.exc_info
    assert "2 more" in later.getMessage() and "refused" in later.getMessage()
