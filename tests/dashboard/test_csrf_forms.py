"""CSRF on the Authentication page's actions (each at its own URL), the public SSO forms
and the account forms: without the token a state-changing POST is a 403 that changes
nothing; with it (the positive control) the same POST goes through. The SAML ACS is the
one deliberate exception: the IdP's POST is cross-site and carries no token."""
import re

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from accounts.models import User
from config import outbound
from orgs.models import AuditEvent, Membership
from sso import views as sso_views
from sso.dashboard_urls import urlpatterns as sso_dashboard_urls
from sso.group_rules import group_rule_create
from sso.models import PendingLink, SSOCertificate, SSOConnection, VerifiedDomain
from sso.services import domain_add, sso_certificate_add, sso_configure, sso_enable, sso_login
from tests.conftest import PASSWORD, make_user
from tests.sso.conftest import post_acs, start_login
from tests.sso.idp import TestIdP, keypair

pytestmark = pytest.mark.django_db

PAGE = "/orgs/acme/settings/authentication/"
CSRF_REFUSAL = "security token (CSRF)"
NEXT_KEY = "csrf-next-idp"


@pytest.fixture(autouse=True)
def _base_url(settings):
    settings.BASE_URL = "http://testserver"


def csrf_client(user=None) -> Client:
    client = Client(enforce_csrf_checks=True)
    if user is not None:
        client.force_login(user, backend="accounts.backends.EmailBackend")
    return client


def token_from(client, page: str) -> str:
    """The CSRF token a browser would get by loading `page` first."""
    response = client.get(page)
    assert response.status_code == 200, (page, response.status_code)
    return client.cookies["csrftoken"].value


def assert_csrf_refused(response):
    assert response.status_code == 403, response.status_code
    assert CSRF_REFUSAL in response.content.decode()


# The Authentication page ---------------------------------------------------------


@pytest.fixture
def idp():
    return TestIdP()


@pytest.fixture
def world(org, admin_user, member, idp):
    """Configured (not enabled) SSO with one certificate and one unverified domain, and a
    member an enable would remove: every action below would change something."""
    connection = sso_configure(org=org, actor=admin_user, idp_entity_id=idp.entity_id,
                               idp_sso_url="https://idp.test/sso", certificates=[idp.cert_pem],
                               attribute_preset="okta")
    domain = domain_add(org=org, actor=admin_user, domain="acme.test")
    return {"org": org, "admin": admin_user, "member": member, "connection": connection, "domain": domain}


def snapshot(org):
    return (
        list(SSOConnection.objects.filter(org=org).values(
            "state", "idp_entity_id", "idp_sso_url", "idp_slo_url", "attribute_preset", "email_attribute",
            "allow_idp_initiated", "session_lifetime", "manage_roles_via_idp", "role_attribute")),
        sorted(SSOCertificate.objects.filter(org=org).values_list("sha256_fingerprint", flat=True)),
        sorted(VerifiedDomain.objects.filter(org=org).values_list("domain", "verified_at")),
        sorted(Membership.objects.filter(org=org).values_list("user_id", "role")),
        AuditEvent.objects.filter(org=org).count(),
    )


def _metadata_xml(cert_pem: str) -> str:
    body = "".join(line for line in cert_pem.splitlines() if "-----" not in line)
    return (
        '<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" '
        'xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="https://idp.next.test/">'
        '<md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">'
        '<md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>'
        f'{body}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>'
        '<md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" '
        'Location="https://idp.next.test/sso"/></md:IDPSSODescriptor></md:EntityDescriptor>'
    )


def _next_cert() -> str:
    return keypair(NEXT_KEY)[1]


def _add_second_certificate(w):
    sso_certificate_add(org=w["org"], actor=w["admin"], pem=_next_cert())


def _enable(w):
    sso_enable(org=w["org"], actor=w["admin"])


def _signed_in_through_the_idp(w):
    """The member has an identity at the IdP to unlink (E15)."""
    _enable(w)
    email = w["member"].user.email
    sso_login(org=w["org"], name_id=email, attributes={"email": [email]})


def _member_id(w):
    return {"membership_id": Membership.objects.get(org=w["org"], user=w["member"].user).pk}


def _group_rule(w):
    w["rule"] = group_rule_create(org=w["org"], actor=w["admin"], group_name="Engineering", role="admin")


def _rule_id(w):
    return {"rule_id": w["rule"].pk}


# URL name (sso_dashboard) → (form data, the URL's arguments, setup so that the action would succeed)
ACTIONS = {
    "configure": (lambda w: {"idp_entity_id": "https://idp.next.test/", "idp_sso_url": "https://idp.next.test/sso",
                             "certificate": _next_cert()}, None, None),
    "configure_metadata": (lambda w: {"metadata_xml": _metadata_xml(_next_cert())}, None, None),
    "configure_url": (lambda w: {"metadata_url": "https://idp.next.test/metadata"}, None, None),
    "certificate_add": (lambda w: {"certificate": _next_cert()}, None, None),
    "certificate_remove": (lambda w: {}, lambda w: {"certificate_id": w["connection"].certificates.first().pk},
                           _add_second_certificate),
    "enable": (lambda w: {"confirm": "1"}, None, None),
    "disable": (lambda w: {}, None, _enable),
    "domain_add": (lambda w: {"domain": "acme-csrf.test"}, None, None),
    "domain_verify": (lambda w: {}, lambda w: {"domain_id": w["domain"].pk}, None),
    "domain_remove": (lambda w: {}, lambda w: {"domain_id": w["domain"].pk}, None),
    "session_lifetime": (lambda w: {"session_lifetime_hours": "48"}, None, None),
    "role_management": (lambda w: {"manage_roles_via_idp": "1", "role_attribute": "gh_role"}, None, None),
    "identity_unlink": (lambda w: {}, _member_id, _signed_in_through_the_idp),
    "group_rule_add": (lambda w: {"group_name": "Engineering", "database_admin": "1"}, None, None),
    "group_rule_edit": (lambda w: {"group_name": "Engineering", "role": "member"}, _rule_id, _group_rule),
    "group_rule_remove": (lambda w: {}, _rule_id, _group_rule),
}
# Pages (GET) and the group rules' previews (a POST that writes nothing; their CSRF check
# is in tests/sso/test_group_rules.py).
NOT_ACTIONS = {"authentication", "group_rules", "group_rule", "group_rule_add_preview", "group_rule_edit_preview",
               "group_rule_remove_preview"}


def test_every_dashboard_action_is_covered():
    assert set(ACTIONS) == {pattern.name for pattern in sso_dashboard_urls} - NOT_ACTIONS


@pytest.mark.parametrize("action", sorted(ACTIONS))
def test_authentication_page_action_needs_csrf_token(world, action, monkeypatch):
    # The positive control must not reach the network.
    monkeypatch.setattr("config.outbound.fetch", lambda url, **kwargs: outbound.Response(
        status=200, headers={}, body=_metadata_xml(_next_cert()).encode()))
    monkeypatch.setattr("sso.dns.txt_records", lambda domain, resolver=None: [world["domain"].txt_record])
    data_for, arguments_for, setup = ACTIONS[action]
    if setup:
        setup(world)
    arguments = arguments_for(world) if arguments_for else {}
    url = reverse(f"sso_dashboard:{action}", kwargs={"org_slug": "acme", **arguments})
    data = data_for(world)
    client = csrf_client(world["admin"])
    before = snapshot(world["org"])

    assert_csrf_refused(client.post(url, data))
    assert snapshot(world["org"]) == before

    response = client.post(url, {**data, "csrfmiddlewaretoken": token_from(client, PAGE)})
    assert response.status_code == 302, response.content.decode()[:2000]
    assert snapshot(world["org"]) != before


def test_test_connection_start_is_a_get_and_changes_nothing(world):
    """The test login starts with a GET (a link on the page): it writes no row, only a login state."""
    client = csrf_client(world["admin"])
    before = snapshot(world["org"])
    assert client.get("/sso/acme/test/").status_code == 302
    assert client.post("/sso/acme/test/").status_code in (403, 405)
    assert snapshot(world["org"]) == before


# /sso/ and the emailed link -------------------------------------------------------


def test_sso_start_post_needs_csrf_token(world):
    _enable(world)
    client = csrf_client()
    assert_csrf_refused(client.post("/sso/", {"identifier": "acme"}))
    response = client.post("/sso/", {"identifier": "acme", "csrfmiddlewaretoken": token_from(client, "/sso/")})
    assert response.status_code == 302 and response["Location"] == "/sso/acme/login/?next=/orgs/acme/"


@pytest.fixture
def pending_link(world, django_capture_on_commit_callbacks):
    """An existing account the IdP named, with no tie to Acme: its owner gets the link by email."""
    _enable(world)
    user = make_user("linkme@elsewhere.test")
    with django_capture_on_commit_callbacks(execute=True):
        result = sso_login(org=world["org"], name_id=user.email, attributes={"email": [user.email]})
    assert result.status == "pending_link"
    token = re.search(r"/sso/link/([^/\s]+)/", mail.outbox[-1].body).group(1)
    return user, token


def test_link_confirmation_post_needs_csrf_token(pending_link, org):
    user, token = pending_link
    url = f"/sso/link/{token}/"
    client = csrf_client()
    before = snapshot(org)
    assert_csrf_refused(client.post(url))
    assert snapshot(org) == before
    assert PendingLink.objects.get(user=user).used_at is None
    assert "_auth_user_id" not in client.session

    response = client.post(url, {"csrfmiddlewaretoken": token_from(client, url)})
    assert response.status_code == 302
    assert int(client.session["_auth_user_id"]) == user.pk
    assert PendingLink.objects.get(user=user).used_at is not None


def test_saml_acs_is_deliberately_csrf_exempt(world, idp):
    """The IdP posts the response from its own site: no CSRF token can be there.
    The ACS is protected by the signed response and the single-use RelayState instead."""
    assert getattr(sso_views.acs, "csrf_exempt", False) is True
    _enable(world)
    client = csrf_client()
    request_id, relay = start_login(client)
    response = post_acs(client, idp.encoded(org_slug="acme", name_id="newbie@acme.test",
                                            in_response_to=request_id), relay)
    assert response.status_code == 302
    assert "_auth_user_id" in client.session


# Account forms -------------------------------------------------------------------


def test_sign_in_needs_csrf_token(admin_user):
    client = csrf_client()
    data = {"username": admin_user.email, "password": PASSWORD}
    assert_csrf_refused(client.post("/accounts/login/", data))
    assert "_auth_user_id" not in client.session

    response = client.post("/accounts/login/", {**data, "csrfmiddlewaretoken": token_from(client, "/accounts/login/")})
    assert response.status_code == 302
    assert int(client.session["_auth_user_id"]) == admin_user.pk


def test_sign_up_needs_csrf_token(db):
    client = csrf_client()
    data = {"email": "csrf-signup@example.test", "password": "a long enough passphrase 42", "first_name": "C"}
    assert_csrf_refused(client.post("/accounts/signup/", data))
    assert not User.objects.filter(email="csrf-signup@example.test").exists()

    response = client.post("/accounts/signup/",
                           {**data, "csrfmiddlewaretoken": token_from(client, "/accounts/signup/")})
    assert response.status_code == 302
    assert User.objects.filter(email="csrf-signup@example.test").exists()


def test_password_change_needs_csrf_token(admin_user):
    client = csrf_client(admin_user)
    new = "an entirely new passphrase 42"
    data = {"old_password": PASSWORD, "new_password1": new, "new_password2": new}
    assert_csrf_refused(client.post("/accounts/password-change/", data))
    admin_user.refresh_from_db()
    assert admin_user.check_password(PASSWORD)

    response = client.post("/accounts/password-change/",
                           {**data, "csrfmiddlewaretoken": token_from(client, "/accounts/password-change/")})
    assert response.status_code == 302
    admin_user.refresh_from_db()
    assert admin_user.check_password(new)


def test_password_reset_request_needs_csrf_token(admin_user):
    client = csrf_client()
    data = {"email": admin_user.email}
    assert_csrf_refused(client.post("/accounts/password-reset/", data))
    assert len(mail.outbox) == 0

    response = client.post("/accounts/password-reset/",
                           {**data, "csrfmiddlewaretoken": token_from(client, "/accounts/password-reset/")})
    assert response.status_code == 302
    assert len(mail.outbox) == 1 and admin_user.email in mail.outbox[0].to
