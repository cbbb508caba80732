"""Single sign-on with Redis or PostgreSQL down (issue 10, item 6): it fails closed with a
503 page, never a 500; used assertion and logout IDs outlive the cache."""
import time
from datetime import datetime, timedelta, timezone

import pytest
from django.core.cache import cache

from sso import state
from sso.models import UsedMessageID
from tests.conftest import database_down

from .conftest import assert_rejected, post_acs, rejections, start_login

pytestmark = pytest.mark.django_db

BRIEFLY_UNAVAILABLE = b"Single sign-on is briefly unavailable"


def allow_idp_initiated(org, admin_user):
    from sso.services import sso_configure

    sso_configure(org=org, actor=admin_user, allow_idp_initiated=True)


def assert_briefly_unavailable(client, response):
    assert response.status_code == 503, response.content[:300]
    assert BRIEFLY_UNAVAILABLE in response.content
    assert int(response["Retry-After"]) > 0
    assert "_auth_user_id" not in client.session


def test_sign_in_start_with_redis_down_is_a_503_page(client, enabled, redis_cache):
    redis_cache.kill()
    assert_briefly_unavailable(client, client.get("/sso/acme/login/"))


def test_acs_with_redis_frozen_answers_503_within_two_seconds(client, enabled, idp, org, redis_cache):
    request_id, relay = start_login(client)
    body = idp.encoded(org_slug="acme", name_id="frozen@acme.test", in_response_to=request_id)
    redis_cache.freeze()
    started = time.monotonic()
    response = post_acs(client, body, relay)
    assert time.monotonic() - started < 2
    assert_briefly_unavailable(client, response)
    redis_cache.thaw()
    # The state was not consumed: once Redis is back, the same login completes.
    assert post_acs(client, body, relay).status_code == 302


def test_rejection_with_redis_down_is_still_refused_and_audited(client, enabled, idp, org, redis_cache):
    redis_cache.kill()
    # No RelayState (IdP-initiated, not allowed here): no login state is needed, the limiter's is.
    response = post_acs(client, idp.encoded(org_slug="acme", name_id="tile@acme.test"), "")
    assert_rejected(client, response, org, "unsolicited_not_allowed", status=403)


def test_rejections_with_redis_down_stay_bounded_per_process(client, enabled, org, redis_cache, settings):
    from sso import limits

    limits._process_counts.clear()
    settings.SSO_REJECTIONS_PER_ORG = 3
    redis_cache.kill()
    statuses = [post_acs(client, "not base64 !", "").status_code for _ in range(5)]
    assert statuses[:3] == [400, 400, 400] and statuses[3:] == [429, 429]
    assert len(rejections(org)) == 3


def test_idp_initiated_replay_refused_after_the_cache_is_cleared(client, enabled, idp, org, admin_user):
    allow_idp_initiated(org, admin_user)
    body = idp.encoded(org_slug="acme", name_id="tile@acme.test")
    assert post_acs(client, body, "/orgs/acme/").status_code == 302
    cache.clear()  # a Redis restart, flush or eviction
    other = type(client)()
    assert_rejected(other, post_acs(other, body, "/orgs/acme/"), org, "replay", status=403)


def test_idp_initiated_sign_in_needs_no_redis_and_its_replay_is_refused(client, enabled, idp, org, admin_user,
                                                                        redis_cache):
    allow_idp_initiated(org, admin_user)
    redis_cache.kill()
    body = idp.encoded(org_slug="acme", name_id="tile@acme.test")
    assert post_acs(client, body, "/orgs/acme/").status_code == 302
    other = type(client)()
    assert_rejected(other, post_acs(other, body, "/orgs/acme/"), org, "replay", status=403)


def test_logout_message_ids_are_durable(org, other_org):
    assert state.logout_message_first_use(org=org, message_id="_logout1", max_age_seconds=60)
    cache.clear()
    assert not state.logout_message_first_use(org=org, message_id="_logout1", max_age_seconds=60)
    # Per organization, and an assertion's ID is another kind of ID.
    assert state.logout_message_first_use(org=other_org, message_id="_logout1", max_age_seconds=60)
    assert state.assertion_first_use(org=org, assertion_id="_logout1", not_on_or_after=None)


def test_used_ids_kept_until_the_assertion_expires_then_pruned_in_batches(org):
    now = datetime.now(timezone.utc)
    state.assertion_first_use(org=org, assertion_id="_long", not_on_or_after=now + timedelta(hours=2))
    kept = UsedMessageID.objects.get()
    assert kept.expires_at >= now + timedelta(hours=2, seconds=299)
    UsedMessageID.objects.bulk_create(
        UsedMessageID(org=org, id_hash=f"{i:064x}", expires_at=now - timedelta(seconds=1)) for i in range(5))
    assert state.used_message_ids_prune(batch=3) == 3
    assert state.used_message_ids_prune(batch=3) == 2
    assert list(UsedMessageID.objects.all()) == [kept]


def test_first_uses_prune_now_and_then(org, monkeypatch):
    import itertools

    UsedMessageID.objects.create(org=org, id_hash="0" * 64, expires_at=datetime.now(timezone.utc) - timedelta(1))
    monkeypatch.setattr(state, "_first_uses", itertools.count(state.PRUNE_EVERY - 1))
    state.assertion_first_use(org=org, assertion_id="_a", not_on_or_after=None)
    assert UsedMessageID.objects.count() == 2
    state.assertion_first_use(org=org, assertion_id="_b", not_on_or_after=None)
    assert UsedMessageID.objects.count() == 2  # the expired one is gone


def test_sign_in_with_the_database_down_is_a_503_page(client, enabled, idp, org, admin_user):
    allow_idp_initiated(org, admin_user)
    body = idp.encoded(org_slug="acme", name_id="dbdown@acme.test")
    with database_down():
        response = post_acs(client, body, "/orgs/acme/")
    assert response.status_code == 503 and int(response["Retry-After"]) > 0
    assert b"Briefly unavailable" in response.content and b"Traceback" not in response.content
    assert not UsedMessageID.objects.exists()
    # Nothing was used up: the same response signs in once the database is back.
    assert post_acs(client, body, "/orgs/acme/").status_code == 302
