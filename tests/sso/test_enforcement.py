"""SSO enforcement that cannot be walked around (SPEC E11–E13): SSO-only accounts,
sessions bound to the organization's IdP, a bounded SSO session. Through HTTP, and
asserting state: which session reaches the organization, which audit events exist,
what the reset email carries."""
import re
from datetime import datetime, timedelta, timezone

import pytest
from django.contrib.auth.tokens import default_token_generator
from django.core import mail
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from accounts.models import User
from orgs.models import AuditEvent, Membership
from orgs.services import invitation_accept, invitation_create, membership_add, service_token_create
from sso import sessions
from sso.events import SSOEvents
from sso.services import sso_configure, sso_disable, sso_enable, sso_login
from tests.conftest import PASSWORD, client_for, make_user, sso_client_for
from tests.scim.conftest import directory_for, patch_body, provision

from .conftest import post_acs, start_login, verify_domain_now

pytestmark = pytest.mark.django_db
MEMBERS = "/orgs/acme/settings/members/"
API_MEMBERS = "/api/v1/organizations/acme/members"


def _password_sign_in(client, email, password=PASSWORD):
    return client.post("/accounts/login/", {"username": email, "password": password})


def _sign_ins(org, user):
    return AuditEvent.objects.filter(org=org, event=SSOEvents.LOGIN, actor=user).count()


def _refused_to_reach_the_org(client):
    """Neither the dashboard nor the API (by this session) opens the organization; the
    page goes through the organization's IdP and would come back to itself."""
    page = client.get(MEMBERS)
    assert page.status_code == 302
    assert page["Location"] == "/sso/acme/login/?next=%2Forgs%2Facme%2Fsettings%2Fmembers%2F"
    api = client.get(API_MEMBERS)
    assert api.status_code == 403
    assert api.json()["code"] == "sso_required"
    assert "/sso/acme/login/" in api.json()["message"]


def _reset_mail_body(client, email):
    mail.outbox.clear()
    response = client.post("/accounts/password-reset/", {"email": email})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    return mail.outbox[0].body


# The three leaks of the issue, each through HTTP ---------------------------------------


def test_leak_1_an_account_directory_sync_attaches_does_not_reach_the_org_with_its_password(
        org, enabled, admin_user, outsider):
    scim = directory_for(org, admin_user)
    provision(scim, outsider.email)
    assert Membership.objects.get(org=org, user=outsider).owner_unconfirmed
    client = Client()
    # The directory cannot lock the owner out of their own account (SPEC §7) …
    assert _password_sign_in(client, outsider.email).status_code == 302
    assert client.get("/").status_code == 200
    # … but that password session does not reach the SSO-enforced organization (E12).
    _refused_to_reach_the_org(client)
    assert _sign_ins(org, outsider) == 0


def test_leak_2_an_account_directory_sync_created_cannot_get_a_password(client, org, enabled, admin_user):
    """In a domain the organization verified, the directory's account is claimed and SSO-only."""
    verify_domain_now(org, "acme.test")
    scim = directory_for(org, admin_user)
    provision(scim, "dana@acme.test")
    dana = User.objects.get(email="dana@acme.test")
    assert not dana.has_usable_password()
    body = _reset_mail_body(client, dana.email)
    assert "/accounts/reset/" not in body and "/sso/" in body and "single sign-on" in body
    # Even a link mailed earlier (a valid token) sets no password.
    uid = urlsafe_base64_encode(force_bytes(dana.pk))
    token = default_token_generator.make_token(dana)
    landing = client.get(f"/accounts/reset/{uid}/{token}/")
    form_url = landing["Location"]
    assert client.get(form_url).status_code == 403
    refused = client.post(form_url, {"new_password1": "a brand new passphrase 1", "new_password2":
                                     "a brand new passphrase 1"})
    assert refused.status_code == 403 and b"/sso/" in refused.content
    dana.refresh_from_db()
    assert not dana.has_usable_password()
    assert _password_sign_in(Client(), dana.email, "a brand new passphrase 1").status_code == 200
    assert _sign_ins(org, dana) == 0


def test_leak_2_in_an_unverified_domain_the_reset_is_a_claim_that_ends_the_directorys_ties(
        client, org, enabled, admin_user, django_capture_on_commit_callbacks):
    """E14: the directory's account for an address the organization did not verify is
    unclaimed; a password reset claims it for the address's owner, and the claim ends the
    membership first: a password never reaches the organization."""
    scim = directory_for(org, admin_user)
    provision(scim, "dana@acme.test")
    dana = User.objects.get(email="dana@acme.test")
    assert not dana.claimed
    with django_capture_on_commit_callbacks(execute=True):
        mail.outbox.clear()
        client.post("/accounts/password-reset/", {"email": dana.email})
    (message,) = mail.outbox
    link = re.search(r"http://testserver(/accounts/claim/\S+)", message.body).group(1)
    assert client.post(link).status_code == 302  # claimed: on to setting a password
    dana.refresh_from_db()
    assert dana.claimed and not Membership.objects.filter(org=org, user=dana).exists()
    client.force_login(dana, backend="accounts.backends.EmailBackend")
    assert client.get(MEMBERS).status_code == 404


def test_leak_3_a_removed_member_the_directory_brings_back_cannot_use_the_old_password(
        client, org, member, enabled, admin_user):
    assert not Membership.objects.filter(org=org, user=member.user).exists()  # E1
    scim = directory_for(org, admin_user)
    provision(scim, member.user.email)
    assert Membership.objects.filter(org=org, user=member.user).exists()
    response = _password_sign_in(client, member.user.email)
    assert response.status_code == 200
    assert "requires single sign-on" in response.content.decode() and "/sso/" in response.content.decode()
    assert "_auth_user_id" not in client.session
    # A password session made before the directory brought them back does not reach it either.
    _refused_to_reach_the_org(client_for(member.user))
    assert _sign_ins(org, member.user) == 0
    member.user.refresh_from_db()
    assert member.user.check_password(PASSWORD)  # kept for D1


# Every way a membership comes to exist -------------------------------------------------


def _by_jit(org, admin_user, user):
    # An account with a password, in a domain the organization verified: its IdP may sign it in.
    verify_domain_now(org, "acme.test")
    sso_login(org=org, name_id=user.email, attributes={"email": [user.email]})


def _by_directory_create(org, admin_user, user):
    # The directory attaches an account that exists; its owner confirms it through the IdP.
    from sso.services import sso_link_confirm
    from sso.models import PendingLink
    from orgs.models import hash_secret

    provision(directory_for(org, admin_user), user.email)
    sso_login(org=org, name_id=user.email, attributes={"email": [user.email]})
    link = PendingLink.objects.get(org=org, user=user)
    token = "known-token-for-the-test"
    PendingLink.objects.filter(pk=link.pk).update(token_hash=hash_secret(token))
    sso_link_confirm(token=token)
    assert not Membership.objects.get(org=org, user=user).owner_unconfirmed


def _by_directory_reactivate(org, admin_user, user):
    # An account the directory created (claimed: acme verified acme.test), deactivated and
    # activated again; it holds a password (as accounts could get one through the reset flow before E11).
    verify_domain_now(org, "acme.test")
    user.delete()
    scim = directory_for(org, admin_user)
    user_id = provision(scim, user.email)
    scim.patch(f"Users/{user_id}", patch_body({"op": "replace", "path": "active", "value": False}))
    assert not Membership.objects.filter(org=org, user__email=user.email).exists()
    scim.patch(f"Users/{user_id}", patch_body({"op": "replace", "path": "active", "value": True}))
    created = User.objects.get(email=user.email)
    created.set_password(PASSWORD)
    created.save()
    return created


def _by_add_member(org, admin_user, user):
    membership_add(org=org, user=user, role=Membership.Role.MEMBER, actor=None)


SOURCES = {"jit": _by_jit, "directory_create": _by_directory_create,
           "directory_reactivate": _by_directory_reactivate, "add_member": _by_add_member}


@pytest.mark.parametrize("source", sorted(SOURCES))
def test_every_membership_source_makes_an_sso_only_account(source, org, enabled, admin_user):
    user = make_user("rosa@acme.test")
    user = SOURCES[source](org, admin_user, user) or user
    assert Membership.objects.filter(org=org, user=user).exists()
    _assert_sso_only(org, user)


def test_an_invitation_accepted_before_the_enable_makes_an_sso_only_account(org, connection, admin_user,
                                                                            django_capture_on_commit_callbacks):
    user = make_user("rosa@acme.test")
    _, token = invitation_create(org=org, email=user.email, role=Membership.Role.MEMBER, actor=admin_user)
    invitation_accept(token=token, user=user)
    with django_capture_on_commit_callbacks(execute=False):  # the removal job has not reached them
        sso_enable(org=org, actor=admin_user)
    # Being removed, they are not "in" the organization: their access ended (E1) …
    assert client_for(user).get(MEMBERS).status_code == 404
    assert _password_sign_in(Client(), user.email).status_code == 302
    # … and once they are back through the IdP, only the IdP signs them in.
    sso_login(org=org, name_id=user.email, attributes={"email": [user.email]})
    _assert_sso_only(org, user)


def _assert_sso_only(org, user):
    """E11 and E12 for `user`, a member of the SSO-enforced `acme`."""
    client = Client()
    refused = _password_sign_in(client, user.email)
    assert refused.status_code == 200 and "_auth_user_id" not in client.session
    assert 'href="/sso/?org=acme"' in refused.content.decode()
    body = _reset_mail_body(client, user.email)
    assert "/accounts/reset/" not in body and "/sso/" in body
    _refused_to_reach_the_org(client_for(user))
    change = client_for(user).post("/accounts/password-change/", {
        "old_password": PASSWORD, "new_password1": "another passphrase 2", "new_password2": "another passphrase 2"})
    assert change.status_code == 403
    user.refresh_from_db()
    assert user.check_password(PASSWORD)  # kept, not destroyed (D1)
    assert sso_client_for(user, org).get(MEMBERS).status_code == 200


# Every organization-scoped surface -----------------------------------------------------


def _routes() -> list[str]:
    """Every URL pattern of the site, as its route."""
    found = []

    def walk(patterns, prefix):
        for entry in patterns:
            route = prefix + str(entry.pattern)
            if isinstance(entry, URLResolver):
                walk(entry.url_patterns, route)
            elif isinstance(entry, URLPattern):
                found.append(route)

    walk(get_resolver().url_patterns, "/")
    return found


def _org_scoped_dashboard_urls() -> list[str]:
    """Every dashboard URL pattern under an organization (not the API, not SCIM: bearer
    credentials), with made-up values for its other parameters: the gate runs before the
    view reads them."""
    found = [route for route in _routes() if "<slug:org_slug>" in route]
    urls = []
    for route in found:
        if route.startswith(("/api/", "/scim/")) or route in PUBLIC_SAML_ROUTES:
            continue
        url = route.replace("<slug:org_slug>", "acme")
        url = re.sub(r"<int:[^>]+>", "1", url)
        url = re.sub(r"<[^>]+>", "x", url)
        urls.append(url.replace("^", "").replace("$", ""))
    return sorted(set(urls))


# SPEC §3: what an IdP and a signed-out browser reach; everything else under an organization is its pages.
PUBLIC_SAML_ROUTES = {"/sso/<slug:org_slug>/login/", "/sso/<slug:org_slug>/acs/", "/sso/<slug:org_slug>/metadata/",
                      "/sso/<slug:org_slug>/sls/", "/sso/test-idp/initiate/<slug:org_slug>/"}
DASHBOARD_URLS = _org_scoped_dashboard_urls()


def test_the_dashboard_walk_finds_the_organization_pages():
    assert len(DASHBOARD_URLS) > 15
    assert MEMBERS in DASHBOARD_URLS and "/orgs/acme/settings/authentication/" in DASHBOARD_URLS


# Issue 14: a setup link's pages reach one organization without its slug in the URL: the
# secret says which. They are not member pages (no session opens or closes them), so the
# walk above does not find them; this one does, and checks that only the secret opens them.
SETUP_LINK_ROUTES = sorted(route for route in _routes() if route.startswith("/setup/"))


def test_the_walk_finds_the_setup_link_pages_outside_any_organization():
    assert "/setup/<str:secret>/" in SETUP_LINK_ROUTES and len(SETUP_LINK_ROUTES) >= 10
    assert not any("org_slug" in route for route in SETUP_LINK_ROUTES)


@pytest.mark.parametrize("route", SETUP_LINK_ROUTES)
def test_a_setup_link_page_opens_by_its_secret_and_no_session_opens_it(route, org, sso_only_member, admin_user):
    from setuplinks.services import setup_link_create

    _, secret = setup_link_create(org=org, actor=admin_user, lifetime=timedelta(hours=1))
    made_up = "ghsetup_" + "A" * 43
    clients = (Client(), client_for(sso_only_member), sso_client_for(admin_user, org))
    before = AuditEvent.objects.count()
    for client in clients:
        for secret_in_url in (made_up, "x"):
            url = re.sub(r"<int:[^>]+>", "1", route.replace("<str:secret>", secret_in_url))
            assert client.get(url).status_code in (404, 405), url
            assert client.post(url, {"confirm": "yes", "domain": "acme.test"}).status_code in (404, 405), url
    assert AuditEvent.objects.count() == before
    if route == "/setup/<str:secret>/":
        # The link's own page is not a member page: a session the organization refuses changes nothing.
        for client in clients:
            assert client.get(f"/setup/{secret}/").status_code == 200


@pytest.fixture
def sso_only_member(org, enabled, admin_user):
    user = make_user("rosa@acme.test")
    membership_add(org=org, user=user, role=Membership.Role.MEMBER, actor=None)
    return user


@pytest.mark.parametrize("url", DASHBOARD_URLS)
def test_every_dashboard_page_refuses_a_password_session(url, org, sso_only_member, admin_user):
    clients = (client_for(sso_only_member), _idp_signed_in_admin_on_password(org, admin_user))
    before = AuditEvent.objects.count()
    for client in clients:
        get = client.get(url)
        assert get.status_code == 302 and get["Location"].startswith("/sso/acme/login/?next="), url
        post = client.post(url, {"name": "x", "action": "disable", "confirm": "yes"})
        assert post.status_code == 403, url
        assert b"Sign in with SSO" in post.content
    assert AuditEvent.objects.count() == before  # nothing half-done


def _idp_signed_in_admin_on_password(org, admin_user):
    """An administrator after their first IdP sign-in, holding a password session (E2 over)."""
    sso_login(org=org, name_id=admin_user.email, attributes={"email": [admin_user.email]})
    return client_for(admin_user)


def _api_operations() -> list[tuple[str, str]]:
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    operations = []
    for path, methods in schema["paths"].items():
        if "{org_slug}" not in path:
            continue
        url = re.sub(r"\{[^}]+\}", "1", path.replace("{org_slug}", "acme"))
        operations += [(method.upper(), url) for method in methods if method in ("get", "post", "put", "patch",
                                                                                   "delete")]
    return sorted(operations)


API_OPERATIONS = _api_operations()


def test_the_schema_walk_finds_the_organization_operations():
    assert len(API_OPERATIONS) > 20
    assert ("GET", API_MEMBERS) in API_OPERATIONS


@pytest.mark.parametrize("method,url", API_OPERATIONS)
def test_every_api_operation_refuses_a_password_session(method, url, org, sso_only_member, admin_user):
    clients = (client_for(sso_only_member), _idp_signed_in_admin_on_password(org, admin_user))
    before = AuditEvent.objects.count()
    for client in clients:
        response = client.generic(method, url, "{}", content_type="application/json")
        assert response.status_code == 403, (method, url, response.content)
        assert response.json()["code"] == "sso_required"
    assert AuditEvent.objects.count() == before


@pytest.mark.parametrize("method,url", [op for op in API_OPERATIONS if op[0] == "GET"])
def test_an_idp_session_passes_the_gate_of_every_api_read(method, url, org, sso_only_member, admin_user):
    """The gate's counterpart: the same reads are not refused to a session the IdP made."""
    response = sso_client_for(admin_user, org).get(url)
    assert response.status_code != 403 or response.json()["code"] not in ("sso_required", "sso_session_expired")


# What stays as it was ------------------------------------------------------------------


def test_E2_an_administrator_keeps_the_password_until_the_first_idp_sign_in(client, org, enabled, admin_user):
    assert _password_sign_in(client, admin_user.email).status_code == 302
    assert client.get(MEMBERS).status_code == 200
    assert client.get(API_MEMBERS).status_code == 200
    sso_login(org=org, name_id=admin_user.email, attributes={"email": [admin_user.email]})
    _refused_to_reach_the_org(client)
    assert _password_sign_in(Client(), admin_user.email).status_code == 200


def test_D1_disabling_restores_passwords_and_password_sessions(org, enabled, admin_user):
    user = make_user("rosa@acme.test")
    membership_add(org=org, user=user, role=Membership.Role.MEMBER, actor=None)
    password_session = client_for(user)
    _refused_to_reach_the_org(password_session)
    sso_disable(org=org, actor=admin_user)
    client = Client()
    assert _password_sign_in(client, user.email).status_code == 302
    assert client.get(MEMBERS).status_code == 200
    assert password_session.get(API_MEMBERS).status_code == 200
    assert "/accounts/reset/" in _reset_mail_body(Client(), user.email)


def test_E7_a_removed_members_service_token_keeps_working(org, member, connection, admin_user,
                                                          django_capture_on_commit_callbacks):
    _, secret = service_token_create(org=org, actor=member.user, name="ci")
    with django_capture_on_commit_callbacks(execute=True):
        sso_enable(org=org, actor=admin_user)
    assert not Membership.objects.filter(org=org, user=member.user).exists()
    response = Client().get("/api/v1/organizations/acme/databases", HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert response.status_code == 200


def test_a_session_reaches_only_the_organization_whose_idp_made_it(org, other_org, outsider, admin_user, idp):
    """Two enforcing organizations: a session acme's IdP made does not open `other`."""
    sso_configure(org=other_org, actor=outsider, idp_entity_id="https://idp.test/other",
                  idp_sso_url="https://idp.test/sso", certificates=[idp.cert_pem])
    other_org.plan = "enterprise"
    other_org.save()
    sso_enable(org=other_org, actor=outsider)
    membership_add(org=other_org, user=admin_user, role=Membership.Role.MEMBER, actor=None)
    client = sso_client_for(admin_user, org)
    assert client.get("/orgs/other/settings/members/")["Location"].startswith("/sso/other/login/")


# E13: a bounded SSO session -----------------------------------------------------------


def _sign_in_through_the_idp(client, idp, email, next_url=None, **assertion):
    request_id, relay = start_login(client, next_url=next_url)
    return post_acs(client, idp.encoded(org_slug="acme", name_id=email, in_response_to=request_id, **assertion),
                    relay)


@pytest.fixture
def clock(monkeypatch):
    import time

    class Clock:
        offset = 0.0

        def move(self, **delta):
            self.offset += timedelta(**delta).total_seconds()

    moved = Clock()
    monkeypatch.setattr(sessions, "_now", lambda: time.time() + moved.offset)
    return moved


def test_E13_the_lifetime_ends_the_session_and_the_idp_brings_it_back_to_the_page(
        client, org, enabled, idp, clock, sso_only_member, admin_user):
    sso_configure(org=org, actor=admin_user, session_lifetime=timedelta(hours=1))
    assert _sign_in_through_the_idp(client, idp, sso_only_member.email).status_code == 302
    clock.move(minutes=59)
    assert client.get(MEMBERS).status_code == 200
    clock.move(minutes=2)
    expired = client.get(MEMBERS)
    assert expired.status_code == 302 and expired["Location"] == (
        "/sso/acme/login/?next=%2Forgs%2Facme%2Fsettings%2Fmembers%2F")
    api = client.get(API_MEMBERS)
    assert api.status_code == 403 and api.json()["code"] == "sso_session_expired"
    # A form posted after expiry does nothing and says so.
    before = AuditEvent.objects.count()
    post = client.post("/orgs/acme/settings/databases/", {"name": "late"},
                       HTTP_REFERER="http://testserver/orgs/acme/settings/databases/")
    assert post.status_code == 403 and b"Nothing was changed" in post.content
    assert b"next=%2Forgs%2Facme%2Fsettings%2Fdatabases%2F" in post.content
    assert AuditEvent.objects.count() == before
    # Through the IdP again, back to the page asked for.
    back = _sign_in_through_the_idp(client, idp, sso_only_member.email, next_url="/orgs/acme/settings/members/")
    assert back.status_code == 302 and back["Location"] == MEMBERS
    assert client.get(MEMBERS).status_code == 200


def test_E13_a_shorter_lifetime_applies_to_live_sessions(client, org, enabled, idp, clock, sso_only_member,
                                                         admin_user):
    _sign_in_through_the_idp(client, idp, sso_only_member.email)
    clock.move(hours=3)
    assert client.get(MEMBERS).status_code == 200  # default 24 hours
    sso_configure(org=org, actor=admin_user, session_lifetime=timedelta(hours=2))
    assert client.get(MEMBERS).status_code == 302


def test_E13_session_not_on_or_after_caps_the_lifetime(client, org, enabled, idp, clock, sso_only_member):
    cap = datetime.now(timezone.utc) + timedelta(minutes=30)
    _sign_in_through_the_idp(client, idp, sso_only_member.email, session_not_on_or_after=cap)
    clock.move(minutes=29)
    assert client.get(MEMBERS).status_code == 200
    clock.move(minutes=2)
    assert client.get(MEMBERS).status_code == 302
    assert client.get(API_MEMBERS).json()["code"] == "sso_session_expired"


def test_E13_an_idp_sign_in_records_its_session_for_single_logout(client, org, enabled, idp, sso_only_member):
    from sso.models import SSOSession

    cap = datetime.now(timezone.utc) + timedelta(hours=2)
    _sign_in_through_the_idp(client, idp, sso_only_member.email, session_not_on_or_after=cap)
    row = SSOSession.objects.get(org=org, user=sso_only_member)
    assert row.session_key == client.session.session_key
    assert row.name_id == sso_only_member.email and row.session_index.startswith("_s")
    assert abs((row.expires_at - cap).total_seconds()) < 2


# E2's exemption is for administrators the enable kept, nobody made since ------------------


def _admin_directory(org, admin_user):
    from tests.scim.conftest import set_role_management

    scim = directory_for(org, admin_user)
    set_role_management(org)
    return scim


def _provision_admin(scim, email):
    from tests.scim.conftest import user_body

    response = scim.post("Users", user_body(email, planetscale_role="admin"))
    assert response.status_code == 201, response.content
    return response.json()["id"]


def test_leak_1_as_admin_an_attached_account_does_not_reach_the_org_with_its_password(
        org, enabled, admin_user, outsider):
    _provision_admin(_admin_directory(org, admin_user), outsider.email)
    membership = Membership.objects.get(org=org, user=outsider)
    assert membership.role == Membership.Role.ADMIN and membership.owner_unconfirmed
    client = Client()
    assert _password_sign_in(client, outsider.email).status_code == 302  # not locked out (SPEC §7)
    _refused_to_reach_the_org(client)


def test_leak_2_as_admin_a_directory_made_admin_gets_no_password(client, org, enabled, admin_user):
    verify_domain_now(org, "acme.test")
    _provision_admin(_admin_directory(org, admin_user), "dana@acme.test")
    dana = User.objects.get(email="dana@acme.test")
    assert Membership.objects.get(org=org, user=dana).role == Membership.Role.ADMIN
    body = _reset_mail_body(client, dana.email)
    assert "/accounts/reset/" not in body and "/sso/" in body
    dana.set_password(PASSWORD)  # as an account could get one before E11
    dana.save()
    assert _password_sign_in(Client(), dana.email).status_code == 200  # refused, pointing to /sso/
    _refused_to_reach_the_org(client_for(dana))


def test_leak_3_as_admin_a_removed_member_brought_back_as_admin_uses_the_idp(
        client, org, member, enabled, admin_user):
    _provision_admin(_admin_directory(org, admin_user), member.user.email)
    assert Membership.objects.get(org=org, user=member.user).role == Membership.Role.ADMIN
    assert _password_sign_in(client, member.user.email).status_code == 200
    assert "_auth_user_id" not in client.session
    _refused_to_reach_the_org(client_for(member.user))


@pytest.mark.parametrize("how", ["promoted", "added_as_admin"])
def test_an_administrator_made_after_the_enable_uses_the_idp(how, org, enabled, admin_user):
    from orgs.services import membership_change_role

    user = make_user("rosa@acme.test")
    if how == "promoted":
        verify_domain_now(org, "acme.test")
        sso_login(org=org, name_id=user.email, attributes={"email": [user.email]})
        membership_change_role(org=org, membership=Membership.objects.get(org=org, user=user),
                               role=Membership.Role.ADMIN, actor=admin_user)
    else:
        membership_add(org=org, user=user, role=Membership.Role.ADMIN, actor=None)
    assert _password_sign_in(Client(), user.email).status_code == 200
    _refused_to_reach_the_org(client_for(user))
    # The administrator the enable kept still has their password (E2).
    assert client_for(admin_user).get(MEMBERS).status_code == 200


def test_a_refused_post_with_a_malformed_referer_is_still_a_clean_403(org, enabled, admin_user):
    sso_login(org=org, name_id=admin_user.email, attributes={"email": [admin_user.email]})
    response = client_for(admin_user).post(MEMBERS, {}, HTTP_REFERER="http://[bad")
    assert response.status_code == 403 and b"Nothing was changed" in response.content


def test_e2s_rule_in_python_and_as_a_query_agree(org, member, enabled, admin_user):
    """sso.sessions.password_still_allowed (the access check, no query) and
    sso.selectors.kept_by_enable (E11's refusal, the dashboard's counts) are one rule."""
    from orgs.services import membership_change_role
    from sso.selectors import kept_by_enable
    from sso.sessions import password_still_allowed

    late = membership_add(org=org, user=make_user("late@acme.test"), role=Membership.Role.ADMIN, actor=None)
    promoted = membership_add(org=org, user=make_user("up@acme.test"), role=Membership.Role.MEMBER, actor=None)
    membership_change_role(org=org, membership=promoted, role=Membership.Role.ADMIN, actor=admin_user)
    unconfirmed = membership_add(org=org, user=make_user("att@acme.test"), role=Membership.Role.ADMIN, actor=None,
                                 owner_unconfirmed=True)
    Membership.objects.filter(pk=unconfirmed.pk).update(created_at=enabled.enabled_at - timedelta(days=1))
    memberships = list(Membership.objects.filter(org=org))
    assert len(memberships) == 4  # ada (kept), late, promoted, unconfirmed; the member was removed (E1)
    by_query = set(Membership.objects.filter(org=org).filter(kept_by_enable(enabled.enabled_at))
                   .values_list("pk", flat=True))
    by_python = {m.pk for m in memberships if password_still_allowed(m, enabled.enabled_at, None)}
    assert by_query == by_python == {Membership.objects.get(org=org, user=admin_user).pk}
    assert {late.pk, promoted.pk, unconfirmed.pk}.isdisjoint(by_query)
