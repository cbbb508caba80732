"""A setup link's pages (issue 14 item 1) through the Django test client, as the IdP
administrator's browser: no account and no session, only the secret in the URL.

What the link reaches (SP values, IdP configuration, certificates, domains, the test of the
connection, Directory Sync when allowed) and what it never does (enable SSO, see members,
open a dashboard page or the API); one plain 404 for an unknown, expired, revoked link or a
plan without SSO; every action audited with the link as the actor; bad input a 4xx."""
import base64
import html
import zlib
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.sessions.models import Session
from django.test import Client
from django.utils import timezone
from lxml import etree

from orgs.models import AuditEvent, Membership, Plan, hash_secret
from orgs.services import organization_set_plan
from scim.models import Directory, DirectoryToken
from setuplinks.models import SetupLink
from setuplinks.services import setup_link_revoke
from sso import saml
from sso.events import SSOEvents
from sso.models import SSOConnection, SSOIdentity, VerifiedDomain
from sso.services import domain_add, sso_configure, sso_disable, sso_enable
from teams.models import Team
from teams.services import team_create
from tests.scim.conftest import enable_sso
from tests.sso.test_enforcement import API_OPERATIONS, DASHBOARD_URLS

from .conftest import make_link

pytestmark = pytest.mark.django_db


def _link_events(link):
    return list(AuditEvent.objects.filter(org=link.org, actor_label=link.label).order_by("pk"))


def _configure_through(client, page, idp):
    return client.post(page + "idp/metadata/", {"metadata_xml": idp.metadata_xml(), "attribute_preset": "okta"})


# The page ---------------------------------------------------------------------------------


def test_the_page_shows_the_sp_values_of_the_authentication_page_and_nothing_else(
        browser_client, page, org, member, admin_client):
    response = browser_client.get(page)
    assert response.status_code == 200
    body = response.content.decode()
    for value in saml.sp_values(org.slug).values():
        assert value in body
    authentication = admin_client.get("/orgs/acme/settings/authentication/").content.decode()
    assert saml.sp_values(org.slug)["acs_url"] in authentication
    # Nothing else of the organization: no member, no navigation to its pages, no administrator.
    assert member.user.email not in body and "ada@acme.test" not in body
    assert "/orgs/acme/" not in body and "Sign out" not in body
    assert "{#" not in body and "{%" not in body


def test_the_page_sends_its_url_to_no_other_site_is_not_cached_and_makes_no_session(browser_client, page):
    response = browser_client.get(page)
    # Not no-referrer: the page's own form posts would then carry `Origin: null`, which the
    # CSRF check refuses (tests/browser/test_setup_link_flow.py posts them in Chromium).
    assert response["Referrer-Policy"] == "same-origin"
    assert "no-store" in response["Cache-Control"]
    assert "sessionid" not in response.cookies and "csrftoken" in response.cookies
    assert not Session.objects.exists()


def test_use_is_recorded_at_most_once_a_minute(browser_client, page, link, django_assert_num_queries):
    assert link.last_used_at is None
    browser_client.get(page)
    link.refresh_from_db()
    first = link.last_used_at
    assert first is not None
    browser_client.get(page)
    link.refresh_from_db()
    assert link.last_used_at == first


# One plain 404 -----------------------------------------------------------------------------


def _not_found_page(client, path):
    response = client.get(path)
    assert response.status_code == 404, path
    assert response["Referrer-Policy"] == "same-origin"
    return response.content


def test_unknown_expired_revoked_and_planless_links_answer_the_same_404(org, admin_user, browser_client,
                                                                         monkeypatch):
    unknown = _not_found_page(browser_client, "/setup/ghsetup_" + "A" * 43 + "/")
    assert _not_found_page(browser_client, "/setup/nonsense/") == unknown

    revoked, revoked_page = make_link(org, admin_user)
    assert browser_client.get(revoked_page).status_code == 200
    setup_link_revoke(org=org, actor=admin_user, link_id=revoked.pk)
    assert _not_found_page(browser_client, revoked_page) == unknown
    assert browser_client.post(revoked_page + "domains/add/", {"domain": "acme.test"}).status_code == 404

    _, expiring_page = make_link(org, admin_user, hours=1)
    assert browser_client.get(expiring_page).status_code == 200
    real_now = timezone.now
    monkeypatch.setattr(timezone, "now", lambda: real_now() + timedelta(hours=1, seconds=1))
    assert _not_found_page(browser_client, expiring_page) == unknown
    monkeypatch.setattr(timezone, "now", real_now)

    _, planless_page = make_link(org, admin_user)
    organization_set_plan(org=org, plan=Plan.HOBBY, actor=None)
    assert _not_found_page(browser_client, planless_page) == unknown
    assert not VerifiedDomain.objects.exists()


@pytest.mark.parametrize("path", ["/setup/%00/", "/setup/" + "a" * 5000 + "/", "/setup/ghsetup_%2F%2E%2E/",
                                  "/setup/ghsetup_" + "ä" * 43 + "/", "/setup/ghsetup_' OR 1=1 --/"])
def test_malformed_secrets_are_a_404(browser_client, path):
    assert browser_client.get(path).status_code == 404


def test_disabling_sso_or_removing_the_connection_does_not_break_the_link(
        browser_client, page, org, admin_user, idp, django_capture_on_commit_callbacks):
    assert _configure_through(browser_client, page, idp).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        sso_enable(org=org, actor=admin_user)
    assert "Enabled" in browser_client.get(page).content.decode()
    sso_disable(org=org, actor=admin_user)
    assert browser_client.get(page).status_code == 200
    SSOConnection.objects.filter(org=org).delete()
    response = browser_client.get(page)
    assert response.status_code == 200 and "Not configured" in response.content.decode()
    assert _configure_through(browser_client, page, idp).status_code == 200


# What it does, audited with the link as the actor ----------------------------------------------


def test_configuring_from_metadata_xml_is_audited_with_the_link_as_actor(browser_client, page, link, org, idp):
    response = _configure_through(browser_client, page, idp)
    assert response.status_code == 200, response.content[:500]
    assert "configured from its metadata" in response.content.decode()
    connection = SSOConnection.objects.get(org=org)
    assert connection.idp_entity_id == idp.entity_id and not connection.is_enabled
    [event] = _link_events(link)
    assert event.event == SSOEvents.CONFIGURED
    assert event.actor is None and event.actor_label == f"setup link #{link.pk} (Jane, Acme IT)"


def test_fields_certificates_and_domains_through_the_link_all_audited(browser_client, page, link, org, idp,
                                                                      monkeypatch):
    response = browser_client.post(page + "idp/", {"idp_entity_id": idp.entity_id,
                                                   "idp_sso_url": "https://idp.test/sso",
                                                   "certificate": idp.cert_pem})
    assert response.status_code == 200, response.content[:500]
    from tests.sso.idp import TestIdP

    next_cert = TestIdP(key_name="next").cert_pem
    assert browser_client.post(page + "certificates/add/", {"certificate": next_cert}).status_code == 200
    connection = SSOConnection.objects.get(org=org)
    assert connection.certificates.count() == 2
    old = connection.certificates.order_by("pk").first()
    assert browser_client.post(page + f"certificates/{old.pk}/remove/").status_code == 200
    assert connection.certificates.count() == 1

    response = browser_client.post(page + "domains/add/", {"domain": "Acme.test"})
    assert response.status_code == 200
    domain = VerifiedDomain.objects.get(org=org)
    assert domain.txt_record in response.content.decode()
    refused = browser_client.post(page + f"domains/{domain.pk}/verify/")
    assert refused.status_code == 400 and "No TXT record" in refused.content.decode()
    monkeypatch.setattr("sso.dns.txt_records", lambda name, resolver=None: [domain.txt_record])
    assert browser_client.post(page + f"domains/{domain.pk}/verify/").status_code == 200
    domain.refresh_from_db()
    assert domain.verified_at is not None

    assert [event.event for event in _link_events(link)] == [
        SSOEvents.CONFIGURED, SSOEvents.CERTIFICATE_ADDED, SSOEvents.CERTIFICATE_REMOVED, SSOEvents.DOMAIN_ADDED,
        SSOEvents.DOMAIN_VERIFIED]
    assert all(event.actor is None for event in _link_events(link))


@pytest.mark.parametrize("action,data", [
    ("idp/metadata/", {"metadata_xml": "<not-xml"}),
    ("idp/metadata/", {"metadata_xml": "<!DOCTYPE x [<!ENTITY a 'b'>]><x>&a;</x>"}),
    ("idp/metadata/", {"metadata_xml": ""}),
    ("idp/metadata/", {"attribute_preset": "nonsense"}),
    ("idp/metadata-url/", {"metadata_url": "http://127.0.0.1/metadata"}),
    ("idp/metadata-url/", {"metadata_url": "not a url"}),
    ("idp/", {"idp_entity_id": "x" * 5000, "idp_sso_url": "javascript:alert(1)", "certificate": "nope"}),
    ("certificates/add/", {"certificate": "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----"}),
    ("domains/add/", {"domain": "not a domain"}),
    ("domains/add/", {"domain": "a" * 300 + ".com"}),
    ("domains/add/", {"domain": "\x00.com"}),
    ("domains/999999999999999999999/verify/", {}),
    ("certificates/999999999999999999999/remove/", {}),
])
def test_malformed_or_oversized_input_is_a_4xx_and_changes_nothing(browser_client, page, link, action, data):
    response = browser_client.post(page + action, data)
    assert 400 <= response.status_code < 500, (response.status_code, response.content[:300])
    assert response["Referrer-Policy"] == "same-origin"
    assert not SSOConnection.objects.exists() and not VerifiedDomain.objects.exists()
    assert _link_events(link) == []


def test_an_oversized_metadata_upload_is_refused(browser_client, page):
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("metadata.xml", b"<x>" + b"a" * (1024 * 1024 + 1) + b"</x>")
    response = browser_client.post(page + "idp/metadata/", {"metadata_file": upload})
    assert response.status_code in (400, 413)
    assert not SSOConnection.objects.exists()


# Its reach -----------------------------------------------------------------------------------


def test_the_links_routes_are_the_setup_actions_only():
    from setuplinks import urls

    assert sorted(pattern.name for pattern in urls.urlpatterns) == sorted([
        "page", "configure", "configure_metadata", "configure_url", "certificate_add", "certificate_remove",
        "domain_add", "domain_verify", "test", "directory_sync_enable"])


@pytest.mark.parametrize("suffix", ["enable/", "disable/", "sso/enable/", "members/", "audit-log/", "teams/",
                                    "invitations/", "domains/1/remove/", "roles/", "session-lifetime/",
                                    "group-rules/", "directory-sync/disable/", "directory-sync/rotate-token/"])
def test_nothing_else_answers_under_a_link(browser_client, page, link, org, idp, suffix):
    _configure_through(browser_client, page, idp)
    before = AuditEvent.objects.count()
    assert browser_client.get(page + suffix).status_code == 404
    assert browser_client.post(page + suffix, {"confirm": "1"}).status_code == 404
    assert AuditEvent.objects.count() == before
    assert not SSOConnection.objects.get(org=org).is_enabled


def test_with_only_the_link_no_dashboard_page_or_api_operation_opens(browser_client, page, org, member, idp):
    _configure_through(browser_client, page, idp)
    before = AuditEvent.objects.count()
    for url in DASHBOARD_URLS:
        get = browser_client.get(url)
        assert get.status_code in (302, 404) and (get.status_code == 404 or "/accounts/login/" in get["Location"]), url
        post = browser_client.post(url, {"confirm": "1", "name": "x", "role": "admin"})
        assert post.status_code in (302, 403, 404), url
    for method, url in API_OPERATIONS:
        response = browser_client.generic(method, url, "{}", content_type="application/json")
        assert response.status_code in (401, 403), (method, url, response.status_code)
    assert AuditEvent.objects.count() == before
    assert not SSOConnection.objects.get(org=org).is_enabled
    assert Membership.objects.filter(org=org).count() == 2


def test_a_link_of_one_organization_cannot_touch_another(browser_client, page, link, other_org, outsider, idp):
    foreign_domain = domain_add(org=other_org, actor=outsider, domain="other.test")
    foreign = sso_configure(org=other_org, actor=outsider, idp_entity_id="https://idp.other/x",
                            idp_sso_url="https://idp.other/sso", certificates=[idp.cert_pem])
    foreign_cert = foreign.certificates.get()
    assert browser_client.post(page + f"domains/{foreign_domain.pk}/verify/").status_code == 400
    assert browser_client.post(page + f"certificates/{foreign_cert.pk}/remove/").status_code == 400  # none here
    _configure_through(browser_client, page, idp)
    assert "No such certificate" in browser_client.post(page + f"certificates/{foreign_cert.pk}/remove/").content.decode()
    assert foreign.certificates.count() == 1
    foreign_domain.refresh_from_db()
    assert foreign_domain.verified_at is None
    assert not AuditEvent.objects.filter(org=other_org, actor_label=link.label).exists()
    # Another organization's slug or page is nowhere on the link's page.
    assert "other" not in browser_client.get(page).content.decode().lower().replace("another", "")


# Directory Sync -------------------------------------------------------------------------------


def test_directory_sync_is_refused_to_a_link_that_does_not_allow_it(browser_client, page, org):
    enable_sso(org)
    body = browser_client.get(page).content.decode()
    assert "does not include Directory Sync" in body and "Enable directory sync" not in body
    response = browser_client.post(page + "directory-sync/enable/", {"confirm": "yes"})
    assert response.status_code == 403
    assert not Directory.objects.filter(org=org, enabled=True).exists()


def test_directory_sync_needs_sso_enabled_and_the_page_says_so(org, admin_user, browser_client):
    link, page = make_link(org, admin_user, allow_directory_sync=True)
    body = browser_client.get(page).content.decode()
    assert "needs single sign-on enabled first" in body
    response = browser_client.post(page + "directory-sync/enable/", {"confirm": "yes"})
    assert response.status_code == 403 and "Enable SSO before Directory Sync" in response.content.decode()
    assert not DirectoryToken.objects.exists()


def test_an_allowed_link_enables_directory_sync_and_shows_the_token_once(org, admin_user, browser_client):
    enable_sso(org)
    team_create(org=org, name="Backend", actor=admin_user)
    link, page = make_link(org, admin_user, allow_directory_sync=True)
    assert browser_client.post(page + "directory-sync/enable/", {}).status_code == 400  # unconfirmed
    response = browser_client.post(page + "directory-sync/enable/", {"confirm": "yes"})
    assert response.status_code == 200
    body = response.content.decode()
    token = DirectoryToken.objects.get(org=org, revoked_at__isnull=True)
    shown = [word for word in html.unescape(body).replace('"', " ").split() if word.startswith("ghscim_")]
    assert len(shown) == 1 and hash_secret(shown[0]) == token.token_hash
    assert "http://testserver/scim/v2/acme/" in body
    later = browser_client.get(page).content.decode()
    assert shown[0] not in later and "Enabled" in later
    assert browser_client.post(page + "directory-sync/enable/", {"confirm": "yes"}).status_code == 409
    assert not Team.objects.filter(org=org).exists()  # DS5
    events = _link_events(link)
    assert {event.event for event in events} == {"team.deleted", "directory.enabled"}
    assert all(event.actor is None for event in events)


# Test the connection -----------------------------------------------------------------------------


def _start_test(client, page):
    response = client.post(page + "test/")
    assert response.status_code == 302, response.content[:300]
    assert response["Referrer-Policy"] == "no-referrer"
    query = parse_qs(urlsplit(response["Location"]).query)
    xml = zlib.decompress(base64.b64decode(query["SAMLRequest"][0]), -15)
    return etree.fromstring(xml).get("ID"), query["RelayState"][0]


def _post_acs(client, response, relay):
    return client.post("/sso/acme/acs/", {"SAMLResponse": response, "RelayState": relay})


def test_the_test_of_the_connection_shows_its_result_signs_nobody_in_and_is_kept_for_the_page(
        browser_client, page, link, org, idp, member):
    _configure_through(browser_client, page, idp)
    request_id, relay = _start_test(browser_client, page)
    response = _post_acs(browser_client, idp.encoded(org_slug="acme", name_id="max@acme.test",
                                                     in_response_to=request_id), relay)
    assert response.status_code == 200
    body = response.content.decode()
    assert "Test sign-in succeeded" in body and "setup page you were given" in body
    assert "is not a member" not in body and "Authentication settings" not in body  # the link sees no members
    # No session at all (the test client's .session would make one: looked at last).
    assert not Session.objects.exists() and "sessionid" not in browser_client.cookies
    assert "_auth_user_id" not in browser_client.session
    assert not SSOIdentity.objects.exists()
    event = AuditEvent.objects.get(org=org, event=SSOEvents.TEST_LOGIN)
    assert event.actor is None and event.actor_label == link.label
    link.refresh_from_db()
    assert link.last_test["ok"] is True and link.last_test["email"] == "max@acme.test"
    later = browser_client.get(page).content.decode()
    assert "Succeeded" in later and "max@acme.test" in later


def test_a_failed_test_shows_the_diagnosis_on_the_result_and_on_the_links_page(browser_client, page, link, org, idp):
    _configure_through(browser_client, page, idp)
    request_id, relay = _start_test(browser_client, page)
    response = _post_acs(browser_client, idp.encoded(org_slug="acme", name_id="max@acme.test",
                                                     in_response_to=request_id,
                                                     audience="https://wrong.example/sp"), relay)
    assert response.status_code == 400
    assert "Test sign-in failed" in response.content.decode()
    event = AuditEvent.objects.filter(org=org, event=SSOEvents.LOGIN_REJECTED).latest("pk")
    assert event.new["tested_by"] == link.label
    later = browser_client.get(page).content.decode()
    assert "Failed" in later and "wrong_audience" in later and "set the Audience URI" in later


def test_a_test_whose_link_was_revoked_meanwhile_shows_nothing(browser_client, page, link, org, idp,
                                                               admin_user):
    _configure_through(browser_client, page, idp)
    request_id, relay = _start_test(browser_client, page)
    setup_link_revoke(org=org, actor=admin_user, link_id=link.pk)
    response = _post_acs(browser_client, idp.encoded(org_slug="acme", name_id="max@acme.test",
                                                     in_response_to=request_id), relay)
    assert response.status_code == 404
    assert "max@acme.test" not in response.content.decode()
    assert not AuditEvent.objects.filter(org=org, event=SSOEvents.TEST_LOGIN).exists()


def test_the_test_needs_a_configured_idp(browser_client, page):
    response = browser_client.post(page + "test/")
    assert response.status_code == 400 and "Configure your identity provider first" in response.content.decode()


# CSRF and the rate limit -------------------------------------------------------------------------


def test_every_form_needs_its_csrf_token_which_the_cookie_carries_without_a_session(page, idp):
    client = Client(enforce_csrf_checks=True)
    refused = client.post(page + "domains/add/", {"domain": "acme.test"})
    assert refused.status_code == 403 and not VerifiedDomain.objects.exists()
    form_page = client.get(page).content.decode()
    token = form_page.split('name="csrfmiddlewaretoken" value="', 1)[1].split('"', 1)[0]
    assert client.post(page + "domains/add/", {"domain": "acme.test", "csrfmiddlewaretoken": token}).status_code == 200
    assert VerifiedDomain.objects.filter(domain="acme.test").exists()
    assert not Session.objects.exists()


def test_lookups_are_limited_per_client_address_before_any_query(settings, page, django_assert_num_queries):
    settings.SETUP_LINK_REQUESTS_PER_CLIENT = 3
    client = Client(REMOTE_ADDR="203.0.113.7")
    guesses = ["/setup/ghsetup_" + str(i) * 43 + "/" for i in range(3)]
    assert [client.get(path).status_code for path in guesses] == [404, 404, 404]
    with django_assert_num_queries(0):
        limited = client.get(page)
    assert limited.status_code == 429 and int(limited["Retry-After"]) > 0
    assert Client(REMOTE_ADDR="203.0.113.8").get(page).status_code == 200  # another address is not limited
    assert not SetupLink.objects.filter(last_used_at__isnull=True).exists()
