"""Issue item 7: an administrator's test login that fails shows the exact reason (the
one written to the audit log) and what to fix in the IdP; a normal login with the
same response keeps the generic page. Nothing changes either way."""
import base64
import html
import zlib
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client
from lxml import etree

from orgs.models import AuditEvent, Membership
from sso.events import SSOEvents
from sso.state import STATE_COOKIE

from .conftest import post_acs, rejections, start_login

pytestmark = pytest.mark.django_db

SP_ENTITY_ID = "http://testserver/sso/acme/metadata/"
ACS_URL = "http://testserver/sso/acme/acs/"
GENERIC = "We could not sign you in with single sign-on."


def start_test(client, org_slug="acme"):
    """GET the administrator's test login; returns (request_id, relay_state)."""
    response = client.get(f"/sso/{org_slug}/test/")
    assert response.status_code == 302, response.content[:300]
    query = parse_qs(urlsplit(response["Location"]).query)
    xml = zlib.decompress(base64.b64decode(query["SAMLRequest"][0]), -15)
    return etree.fromstring(xml).get("ID"), query["RelayState"][0]


def world(org):
    """What must not change: memberships, and no sign-in, test sign-in or pending link recorded."""
    return (sorted(Membership.objects.filter(org=org).values_list("user__email", "role")),
            AuditEvent.objects.filter(org=org, event__in=[SSOEvents.LOGIN, SSOEvents.TEST_LOGIN,
                                                          SSOEvents.LINK_PENDING]).count())


@pytest.fixture
def configured(enabled, member, org):
    # `member` joins after the enable: a member the enable leaves alone, so the
    # "memberships unchanged" checks have a non-admin to watch.
    return enabled


def test_wrong_audience_test_login_shows_reason_and_fix(admin_client, configured, idp, org, admin_user):
    before = world(org)
    assert ("max@acme.test", "member") in before[0]
    session_key, user_id = admin_client.session.session_key, admin_client.session["_auth_user_id"]
    request_id, relay = start_test(admin_client)
    response = post_acs(admin_client, idp.encoded(org_slug="acme", name_id="max@acme.test", in_response_to=request_id,
                                                  audience="https://wrong.example/sp"), relay)

    assert response.status_code == 400
    page = response.content.decode()
    event = rejections(org)[-1]
    assert event.new["code"] == "wrong_audience"
    assert event.new["purpose"] == "test" and event.new["tested_by"] == admin_user.email
    assert "Test sign-in failed" in page and GENERIC not in page
    assert html.escape(event.new["reason"]) in page  # the audit log's exact reason
    assert "https://wrong.example/sp" in page
    assert f"set the Audience URI (SP entity ID, Identifier) to exactly {SP_ENTITY_ID}" in page
    assert world(org) == before
    assert admin_client.session.session_key == session_key
    assert admin_client.session["_auth_user_id"] == user_id


def test_bad_signature_test_login_shows_certificate_mismatch(admin_client, configured, idp, org):
    before = world(org)
    request_id, relay = start_test(admin_client)
    response = post_acs(admin_client, idp.encoded(org_slug="acme", name_id="max@acme.test", in_response_to=request_id,
                                                  key_name="not-the-configured-key"), relay)

    assert response.status_code == 400
    page = response.content.decode()
    event = rejections(org)[-1]
    assert event.new["code"] == "invalid_signature"
    assert html.escape(event.new["reason"]) in page
    assert "Certificate mismatch" in page
    assert configured.certificates.get().sha256_fingerprint in page
    assert "add it under Signing certificates" in page
    assert world(org) == before


@pytest.mark.parametrize("kwargs, code, hint", [
    ({"destination": "http://testserver/sso/other/acs/"}, "wrong_destination", f"to exactly {ACS_URL}"),
    ({"recipient": ACS_URL + "extra"}, "wrong_recipient", f"to exactly {ACS_URL}"),
    ({"not_before": datetime.now(timezone.utc) + timedelta(hours=2),
      "not_on_or_after": datetime.now(timezone.utc) + timedelta(hours=3)}, "not_yet_valid", "clock skew"),
    ({"sign_assertion": False}, "assertion_unsigned", "sign the assertion itself"),
], ids=["destination", "recipient", "clock", "unsigned"])
def test_other_failures_name_what_to_fix(admin_client, configured, idp, org, kwargs, code, hint):
    request_id, relay = start_test(admin_client)
    response = post_acs(admin_client, idp.encoded(org_slug="acme", name_id="max@acme.test", in_response_to=request_id,
                                                  **kwargs), relay)
    assert 400 <= response.status_code < 500
    event = rejections(org)[-1]
    assert event.new["code"] == code
    page = response.content.decode()
    assert html.escape(event.new["reason"]) in page and hint in page


def test_malformed_response_in_a_test_login_is_diagnosed_too(admin_client, configured, org):
    _, relay = start_test(admin_client)
    response = post_acs(admin_client, base64.b64encode(b"<samlp:Response").decode(), relay)
    assert response.status_code == 400
    event = rejections(org)[-1]
    assert event.new["code"] == "malformed_xml"
    assert html.escape(event.new["reason"]) in response.content.decode()


@pytest.mark.parametrize("as_admin", [True, False], ids=["admin-browser", "anonymous-browser"])
def test_normal_login_with_the_same_bad_response_gets_the_generic_page(admin_client, configured, idp, org,
                                                                       as_admin):
    client = admin_client if as_admin else Client()
    before = world(org)
    request_id, relay = start_login(client)
    response = post_acs(client, idp.encoded(org_slug="acme", name_id="max@acme.test", in_response_to=request_id,
                                            audience="https://wrong.example/sp"), relay)
    assert response.status_code == 400
    page = response.content.decode()
    event = rejections(org)[-1]
    assert event.new["code"] == "wrong_audience" and "purpose" not in event.new
    assert GENERIC in page
    assert "Test sign-in failed" not in page
    assert "wrong.example" not in page and SP_ENTITY_ID not in page
    assert world(org) == before


def test_bad_signature_in_a_normal_login_gets_the_generic_page(configured, idp, org):
    client = Client()
    request_id, relay = start_login(client)
    response = post_acs(client, idp.encoded(org_slug="acme", name_id="max@acme.test", in_response_to=request_id,
                                            key_name="not-the-configured-key"), relay)
    assert response.status_code == 400
    assert rejections(org)[-1].new["code"] == "invalid_signature"
    page = response.content.decode()
    assert GENERIC in page and "Certificate mismatch" not in page
    assert "_auth_user_id" not in client.session


def test_diagnosis_reaches_the_administrator_without_the_session_cookie(admin_client, configured, idp, org):
    """In production the IdP's cross-site POST carries the SameSite=None state cookie
    but not the Lax session cookie: the test's starter is known from its state."""
    request_id, relay = start_test(admin_client)
    cross_site = Client()
    cross_site.cookies[STATE_COOKIE] = admin_client.cookies[STATE_COOKIE].value
    response = post_acs(cross_site, idp.encoded(org_slug="acme", name_id="max@acme.test",
                                                in_response_to=request_id, audience="https://wrong.example/sp"), relay)
    assert response.status_code == 400
    assert "Test sign-in failed" in response.content.decode()
    assert "_auth_user_id" not in cross_site.session


def test_no_diagnosis_once_the_starter_is_no_longer_an_administrator(admin_client, configured, idp, org,
                                                                      admin_user):
    request_id, relay = start_test(admin_client)
    # Demoted between starting the test and the IdP's answer (direct update: setup only).
    Membership.objects.filter(org=org, user=admin_user).update(role=Membership.Role.MEMBER)
    response = post_acs(admin_client, idp.encoded(org_slug="acme", name_id="max@acme.test",
                                                  in_response_to=request_id, audience="https://wrong.example/sp"),
                        relay)
    assert response.status_code == 400
    page = response.content.decode()
    assert GENERIC in page and "Test sign-in failed" not in page
    assert rejections(org)[-1].new["code"] == "wrong_audience"


def test_a_relay_state_from_a_normal_login_never_shows_a_diagnosis(admin_client, configured, idp, org):
    """Only a test flow's state, single-use, unlocks the diagnosis: replaying a test's
    RelayState after it was used is refused generically."""
    request_id, relay = start_test(admin_client)
    body = idp.encoded(org_slug="acme", name_id="max@acme.test", in_response_to=request_id,
                       audience="https://wrong.example/sp")
    assert "Test sign-in failed" in post_acs(admin_client, body, relay).content.decode()
    again = post_acs(admin_client, body, relay)
    assert again.status_code == 403
    assert GENERIC in again.content.decode()
    assert rejections(org)[-1].new["code"] == "unknown_in_response_to"


def test_successful_test_login_still_shows_what_arrived(admin_client, configured, idp, org, admin_user):
    before = world(org)[0]
    request_id, relay = start_test(admin_client)
    response = post_acs(admin_client, idp.encoded(org_slug="acme", name_id="newcomer@acme.test",
                                                  in_response_to=request_id), relay)
    assert response.status_code == 200
    page = response.content.decode()
    assert "Test sign-in succeeded" in page and "newcomer@acme.test" in page
    assert world(org)[0] == before
    assert not rejections(org)
    # Recorded as the administrator's test even though the IdP's POST carries no session cookie in production.
    event = AuditEvent.objects.get(org=org, event=SSOEvents.TEST_LOGIN)
    assert event.actor == admin_user and event.new["name_id"] == "newcomer@acme.test"
