"""The SCIM rate limit (scim/limits.py): at most SCIM_RATE_LIMIT requests per token in
any SCIM_RATE_WINDOW_SECONDS, a SCIM 429 with the true wait in Retry-After, per token,
off at 0, shared by every process through Redis (open when Redis is down: test_faults.py).

Each behaviour is checked on both stores: process memory (no Redis in the cache) and
a Redis of the test's own (`redis_cache`). The clock is the limiter's, moved by hand."""
import importlib
import time

import pytest

from scim import limits

from .conftest import assert_scim_error

pytestmark = pytest.mark.django_db


class Clock:
    """What the limiter and its store read as time.time(): `at(s)` is s seconds into the
    minute the test started in, so a test can straddle the edge of the old fixed window."""

    def __init__(self):
        self.origin = float(time.time() // 60 * 60)
        self.now = self.origin

    def time(self) -> float:
        return self.now

    def __getattr__(self, name):  # the rest of the time module, for whoever else reads it
        return getattr(time, name)

    def at(self, seconds: float) -> None:
        self.now = self.origin + seconds


@pytest.fixture
def clock(monkeypatch):
    fake = Clock()
    for module in ("limits.storage.memory", "limits.storage.redis", "scim.limits"):
        monkeypatch.setattr(importlib.import_module(module), "time", fake)
    return fake


@pytest.fixture(params=["memory", "redis"])
def store(request, settings):
    """The limiter's store: process memory, or the test's own Redis (as with REDIS_URL)."""
    if request.param == "redis":
        request.getfixturevalue("redis_cache")
    else:
        settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache",
                                       "LOCATION": "rate-limit-tests"}}
    return request.param


def passes(scim) -> bool:
    response = scim.get("Users")
    if response.status_code == 200:
        return True
    assert_scim_error(response, 429, "tooMany")
    return False


def retry_after(scim) -> int:
    response = scim.get("Users")
    assert_scim_error(response, 429, "tooMany")
    assert response["Content-Type"].startswith("application/scim+json")
    return int(response["Retry-After"])


def test_no_window_of_that_length_passes_more_than_the_limit(scim, store, clock, settings):
    settings.SCIM_RATE_LIMIT, settings.SCIM_RATE_WINDOW_SECONDS = 5, 60
    # Five at the end of a minute, five at the start of the next: a fixed minute let all ten through.
    passed = []
    for second in (55, 56, 57, 58, 59, 60, 61, 62, 63, 64):
        clock.at(second + 0.5)
        passed.append(passes(scim))
    assert passed == [True] * 5 + [False] * 5
    # Sliding: each request that passed makes room one window after it, no sooner.
    clock.at(115.4)  # 0.1 s before the first (55.5 s) leaves the window
    assert not passes(scim)
    clock.at(115.6)
    assert passes(scim)
    assert not passes(scim)  # the second's (56.5 s) place is not free yet
    clock.at(116.6)
    assert passes(scim)


def test_retry_after_is_the_true_wait(scim, store, clock, settings):
    settings.SCIM_RATE_LIMIT, settings.SCIM_RATE_WINDOW_SECONDS = 3, 60
    for second in (0.0, 10.3, 20.3):
        clock.at(second)
        assert passes(scim)
    clock.at(25.3)  # the first request leaves the window at 60 s, in 34.7 s
    assert retry_after(scim) == 35  # the next whole second: never before the true wait
    clock.at(59.3)
    assert retry_after(scim) == 1  # a second early: not yet
    clock.at(60.3)
    assert passes(scim)
    assert retry_after(scim) == 11  # the second request (10.3 s) leaves at 70.3 s


def test_the_window_setting_is_honoured(scim, store, clock, settings):
    settings.SCIM_RATE_LIMIT, settings.SCIM_RATE_WINDOW_SECONDS = 2, 10
    assert passes(scim) and passes(scim)
    clock.at(0.5)
    assert retry_after(scim) == 10  # 9.5 s
    clock.at(9.9)
    assert not passes(scim)
    clock.at(10.1)
    assert passes(scim)


def test_limits_are_per_token(scim, other_scim, store, clock, settings):
    settings.SCIM_RATE_LIMIT = 2
    assert passes(scim) and passes(scim) and not passes(scim)
    assert passes(other_scim) and passes(other_scim)  # another organization's token has its own count
    assert not passes(other_scim)


def test_a_limit_of_0_is_off(scim, store, settings):
    settings.SCIM_RATE_LIMIT = 0
    assert all(passes(scim) for _ in range(30))


def test_processes_share_the_count_through_redis(scim, redis_cache, clock, settings, monkeypatch):
    """Two web processes: each its own Redis client (its own connection pool), one count."""
    settings.SCIM_RATE_LIMIT = 4
    assert passes(scim) and passes(scim)
    first = limits._limiter()
    monkeypatch.setattr(limits, "_limiters", {})  # the other process: nothing built yet
    assert passes(scim) and passes(scim)
    second = limits._limiter()
    assert second is not first
    assert second.storage.get_connection().connection_pool is not first.storage.get_connection().connection_pool
    assert not passes(scim)
    monkeypatch.setattr(limits, "_limiters", {redis_cache.url: first})  # and back in the first
    assert not passes(scim)
