"""Issue 9 item 6 (SPEC §7): anonymous posts to an ACS cannot fill an organization's audit
log. No SSO connection, no record; what the poster wrote is cut to 200 characters; past
the limits per client address and per organization the poster gets 429 with Retry-After
and the window's one note is all that is written. Valid responses are never limited."""
import time

import pytest
from django.test import Client

from orgs.models import AuditEvent
from sso.services import sso_configure

from .conftest import post_acs, rejections, start_login
from .test_test_connection import start_test

pytestmark = pytest.mark.django_db

GARBAGE = "this is *not* base64!!"  # refused before anything is parsed: not_base64, 400
NOTE = "rejections_rate_limited"


@pytest.fixture(autouse=True)
def _limits(settings):
    settings.SSO_REJECTIONS_PER_CLIENT = 10
    settings.SSO_REJECTIONS_PER_ORG = 100
    settings.SSO_REJECTIONS_WINDOW_SECONDS = 60


def garbage(org_slug="acme", ip="203.0.113.7"):
    return Client().post(f"/sso/{org_slug}/acs/", {"SAMLResponse": GARBAGE}, REMOTE_ADDR=ip)


def codes(org):
    return [event.new["code"] for event in rejections(org)]


def assert_limited(response):
    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= 60
    assert "Too many failed single sign-on attempts." in response.content.decode()


def test_no_connection_no_record_whatever_is_posted(client, org):
    before = AuditEvent.objects.filter(org=org).count()
    oversized = "A" * (1024 * 1024 + 1)  # over DATA_UPLOAD_MAX_MEMORY_SIZE: not even read
    assert client.post("/sso/acme/acs/", {"SAMLResponse": oversized}).status_code == 404
    assert client.post("/sso/acme/acs/", {}).status_code == 404
    for _ in range(30):  # and no limit to reach either: nothing is written to limit
        assert garbage().status_code == 404
    assert AuditEvent.objects.filter(org=org).count() == before


def test_a_posted_in_response_to_is_cut_to_200_characters(client, enabled, idp, org):
    long_id = "_" + "x" * 9_999
    response = post_acs(client, idp.encoded(org_slug="acme", name_id="a@acme.test", in_response_to=long_id), "")
    assert response.status_code == 403
    event = rejections(org)[-1]
    assert event.new["code"] == "unknown_in_response_to"
    assert len(event.new["reason"]) == 200 and event.new["reason"].startswith("InResponseTo '_xxx")


def test_a_signed_name_id_the_login_refuses_is_cut_to_200_characters(client, connection, idp, org, admin_user):
    # Configured, not enabled: sso_login refuses (sso_not_enabled) and records the NameID.
    sso_configure(org=org, actor=admin_user, allow_idp_initiated=True)
    long_name_id = "n" * 10_000 + "@acme.test"
    response = post_acs(client, idp.encoded(org_slug="acme", name_id=long_name_id), "/")
    assert response.status_code == 403
    event = rejections(org)[-1]
    assert event.new["code"] == "sso_not_enabled"
    assert event.new["name_id"] == "n" * 200
    assert all(len(value) <= 200 for value in event.new.values() if isinstance(value, str))


def test_past_the_client_limit_429_and_one_note(enabled, org):
    for _ in range(10):
        assert garbage().status_code == 400
    assert codes(org) == ["not_base64"] * 10

    for _ in range(5):
        assert_limited(garbage())
    assert codes(org) == ["not_base64"] * 10 + [NOTE]
    note = rejections(org)[-1]
    assert note.ip_address == "203.0.113.7"
    assert note.new["scope"] == "client" and note.new["limit"] == 10 and note.new["window_seconds"] == 60
    assert note.new["count"] == 11


def test_another_address_has_its_own_allowance_until_the_organization_ceiling(enabled, org, settings):
    settings.SSO_REJECTIONS_PER_ORG = 25
    for _ in range(10):
        assert garbage(ip="203.0.113.7").status_code == 400
    for _ in range(10):
        assert garbage(ip="198.51.100.2").status_code == 400
    for _ in range(5):
        assert garbage(ip="192.0.2.9").status_code == 400
    assert_limited(garbage(ip="192.0.2.9"))  # 26th for the organization
    assert_limited(garbage(ip="192.0.2.200"))  # a fresh address: the ceiling holds for everyone
    assert codes(org) == ["not_base64"] * 25 + [NOTE]
    assert rejections(org)[-1].new["scope"] == "organization"
    assert rejections(org)[-1].new["limit"] == 25


def test_one_note_per_window_however_many_addresses_pass_their_limit(enabled, org):
    for ip in ("203.0.113.7", "198.51.100.2", "192.0.2.9"):
        for _ in range(10):
            assert garbage(ip=ip).status_code == 400
        assert_limited(garbage(ip=ip))
    assert codes(org).count(NOTE) == 1 and len(codes(org)) == 31


def test_an_ipv6_client_is_counted_by_its_slash_64(enabled, org):
    for host in range(10):
        assert garbage(ip=f"2001:db8:1:2::{host + 1:x}").status_code == 400
    assert_limited(garbage(ip="2001:db8:1:2:ffff::1"))
    assert garbage(ip="2001:db8:1:3::1").status_code == 400  # another /64


def test_the_client_address_respects_proxy_count(enabled, org, settings):
    settings.AXES_IPWARE_PROXY_COUNT = 1
    client = Client()
    for _ in range(10):
        assert client.post("/sso/acme/acs/", {"SAMLResponse": GARBAGE}, REMOTE_ADDR="10.0.0.1",
                           HTTP_X_FORWARDED_FOR="203.0.113.7").status_code == 400
    assert_limited(client.post("/sso/acme/acs/", {"SAMLResponse": GARBAGE}, REMOTE_ADDR="10.0.0.1",
                               HTTP_X_FORWARDED_FOR="203.0.113.7"))
    # Same proxy, another client behind it.
    assert client.post("/sso/acme/acs/", {"SAMLResponse": GARBAGE}, REMOTE_ADDR="10.0.0.1",
                       HTTP_X_FORWARDED_FOR="198.51.100.2").status_code == 400


def test_another_organization_is_unaffected(enabled, org, other_org, outsider, idp):
    sso_configure(org=other_org, actor=outsider, idp_entity_id=idp.entity_id, idp_sso_url="https://idp.test/sso",
                  certificates=[idp.cert_pem], attribute_preset="okta")
    for _ in range(10):
        garbage("acme")
    assert_limited(garbage("acme"))
    assert garbage("other").status_code == 400
    assert codes(other_org) == ["not_base64"]


def test_rows_are_written_again_once_the_window_has_passed(enabled, org, monkeypatch):
    for _ in range(11):
        garbage()
    assert_limited(garbage())
    assert len(codes(org)) == 11

    now = time.time()
    monkeypatch.setattr(time, "time", lambda: now + 61)  # the counters' window and the cache's expiry
    for _ in range(10):
        assert garbage().status_code == 400
    assert_limited(garbage())
    assert codes(org) == (["not_base64"] * 10 + [NOTE]) * 2  # and one note for the new window


def test_a_valid_sign_in_from_a_limited_address_still_works(client, enabled, idp, org, settings):
    settings.SSO_REJECTIONS_PER_ORG = 10
    for _ in range(10):
        assert garbage(ip="127.0.0.1").status_code == 400
    assert_limited(garbage(ip="127.0.0.1"))  # past the client limit and the organization's ceiling
    rows = len(codes(org))

    request_id, relay = start_login(client)
    response = post_acs(client, idp.encoded(org_slug="acme", name_id="nat@acme.test", in_response_to=request_id),
                        relay)
    assert response.status_code == 302 and "_auth_user_id" in client.session
    assert len(codes(org)) == rows


def test_a_refusal_of_a_signed_response_shows_its_reason_while_limited(client, connection, idp, org, admin_user):
    sso_configure(org=org, actor=admin_user, allow_idp_initiated=True)
    for _ in range(11):
        garbage(ip="127.0.0.1")
    rows = len(codes(org))
    response = post_acs(client, idp.encoded(org_slug="acme", name_id="p@acme.test"), "/")
    assert response.status_code == 403
    assert "Single sign-on is not enabled for Acme." in response.content.decode()
    assert len(codes(org)) == rows  # counted, not written


def test_an_administrators_test_login_is_never_limited(admin_client, enabled, idp, org, admin_user):
    for _ in range(11):
        garbage(ip="127.0.0.1")
    request_id, relay = start_test(admin_client)
    response = post_acs(admin_client, idp.encoded(org_slug="acme", name_id="t@acme.test", in_response_to=request_id,
                                                  audience="https://wrong.example/sp"), relay)
    assert response.status_code == 400 and "Test sign-in failed" in response.content.decode()
    event = rejections(org)[-1]
    assert event.new["code"] == "wrong_audience" and event.new["tested_by"] == admin_user.email


def test_the_defaults(settings):
    from config import settings as configured

    assert (configured.SSO_REJECTIONS_PER_CLIENT, configured.SSO_REJECTIONS_PER_ORG,
            configured.SSO_REJECTIONS_WINDOW_SECONDS) == (10, 100, 60)
