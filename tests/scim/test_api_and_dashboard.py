"""Directory Sync in the JSON API and on the settings page."""
import pytest

from scim.models import Directory, DirectoryToken
from sso.models import SSOConnection
from teams.services import team_create

from tests.conftest import sso_client_for

from .conftest import ScimClient, enable_sso, set_role_management

pytestmark = pytest.mark.django_db

API = "/api/v1/organizations/acme/directory-sync"
PAGE = "/orgs/acme/settings/directory-sync/"  # its POST enables Directory Sync


def test_api_enable_rotate_patch_disable(admin_client, sso_org):
    state = admin_client.get(API)
    assert state.status_code == 200 and state.json()["enabled"] is False
    response = admin_client.post(API + "/enable")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["scim_base_url"].endswith("/scim/v2/acme/") and body["token"].startswith("ghscim_")
    assert ScimClient(sso_org, body["token"]).get("Users").status_code == 200
    assert "token" not in admin_client.get(API).json()
    assert admin_client.post(API + "/enable").status_code == 409
    rotated = admin_client.post(API + "/rotate-token").json()["token"]
    assert ScimClient(sso_org, body["token"]).get("Users").status_code == 401
    assert ScimClient(sso_org, rotated).get("Users").status_code == 200
    # DS4's switch is the SSO connection's: the state reads it from there (read-only) …
    set_role_management(sso_org, role_attribute="gh_role")
    state = admin_client.get(API).json()
    assert state["manage_roles_via_idp"] is True and state["role_attribute"] == "gh_role"
    # … and a PATCH of it here points to PUT …/sso, changing nothing.
    response = admin_client.patch(API, {"manage_roles_via_idp": False}, content_type="application/json")
    assert response.status_code == 400 and response.json()["code"] == "setting_moved"
    assert "PUT /api/v1/organizations/acme/sso" in response.json()["message"]
    assert SSOConnection.objects.get(org=sso_org).manage_roles_via_idp is True
    response = admin_client.post(API + "/disable")
    assert response.status_code == 200 and response.json()["enabled"] is False
    assert ScimClient(sso_org, rotated).get("Users").status_code == 401


def test_api_bad_input_and_permissions(admin_client, member_client, outsider_client, sso_org, member, other_org):
    admin_client.post(API + "/enable")
    for body in ({"bogus": 1}, {"manage_roles_via_idp": "maybe"}, {"role_attribute": "no spaces!"}):
        assert admin_client.patch(API, body, content_type="application/json").status_code == 400
    assert SSOConnection.objects.get(org=sso_org).manage_roles_via_idp is False
    assert member_client.patch(API, {"manage_roles_via_idp": True}, content_type="application/json"
                               ).status_code == 403
    assert member_client.get(API).status_code == 403
    assert member_client.post(API + "/rotate-token").status_code == 403
    assert outsider_client.get(API).status_code == 404
    assert outsider_client.post(API + "/disable").status_code == 404
    assert Directory.objects.get(org=sso_org).enabled


def test_api_enable_without_sso_is_refused(admin_client, org):
    response = admin_client.post(API + "/enable")
    assert response.status_code == 403
    assert not DirectoryToken.objects.exists()


def test_page_enable_needs_confirmation_then_shows_token_once(admin_client, sso_org, admin_user):
    team_create(org=sso_org, name="Legacy", actor=admin_user)
    page = admin_client.get(PAGE)
    assert page.status_code == 200
    assert b"existing teams" in page.content and b"Enable directory sync" in page.content
    refused = admin_client.post(PAGE, {})
    assert refused.status_code == 400 and not Directory.objects.filter(org=sso_org, enabled=True).exists()
    assert b"existing teams will be deleted" in refused.content
    response = admin_client.post(PAGE, {"confirm": "yes"})
    assert response.status_code == 200
    token = response.context["secret"]
    assert token.encode() in response.content and b"/scim/v2/acme/" in response.content
    assert not sso_org.teams.exists()
    again = admin_client.get(PAGE)
    assert token.encode() not in again.content
    ScimClient(sso_org, token).get("Users", filter='userName eq "x@acme.test"')
    assert b"userName" in admin_client.get(PAGE).content  # the request log
    from scim import request_log

    assert len(request_log.recent(org_id=sso_org.pk)) == 1


def test_page_rotate_settings_disable(admin_client, sso_org):
    admin_client.post(PAGE, {"confirm": "yes"})
    rotated = admin_client.post(PAGE + "rotate-token/").context["secret"]
    assert ScimClient(sso_org, rotated).get("Users").status_code == 200
    # The roles switch is no longer here: the page says where it is, and its state.
    assert admin_client.post(PAGE + "roles/", {"manage_roles_via_idp": "on"}).status_code == 404
    roles = admin_client.get(PAGE).content.decode()
    assert "Settings › Authentication" in roles and "/orgs/acme/settings/authentication/" in roles
    assert 'name="manage_roles_via_idp"' not in roles
    set_role_management(sso_org, role_attribute="gh_role")
    assert "<strong>on</strong>" in admin_client.get(PAGE).content.decode()
    assert admin_client.post(PAGE, {"action": "nope"}).status_code == 400  # no confirmation: enables nothing
    response = admin_client.post(PAGE + "disable/")
    assert response.status_code == 302 and response["Location"] == PAGE
    assert not Directory.objects.get(org=sso_org).enabled


def test_page_is_admin_only_and_org_scoped(member_client, outsider_client, sso_org, member, other_org):
    assert member_client.get(PAGE).status_code == 302  # a password session goes through the IdP (E12)
    member_client = sso_client_for(member.user, sso_org)
    assert member_client.get(PAGE).status_code == 403
    assert member_client.post(PAGE, {"confirm": "yes"}).status_code == 403
    assert outsider_client.get(PAGE).status_code == 404
    assert not Directory.objects.filter(org=sso_org, enabled=True).exists()


def test_page_without_sso_says_so(admin_client, org):
    page = admin_client.get(PAGE)
    assert b"requires single sign-on" in page.content


def test_page_csrf_enforced(admin_user, sso_org):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(admin_user, backend="accounts.backends.EmailBackend")
    assert client.post(PAGE, {"confirm": "yes"}).status_code == 403
    enable_sso(sso_org)
    assert not Directory.objects.filter(org=sso_org, enabled=True).exists()


def test_every_page_action_needs_csrf_token(admin_user, sso_org, directory_token):
    from django.test import Client
    from django.urls import reverse

    from orgs.models import AuditEvent
    from scim.dashboard_urls import urlpatterns

    def state():
        directory = Directory.objects.get(org=sso_org)
        return (directory.enabled,
                list(DirectoryToken.objects.filter(org=sso_org).values_list("pk", "revoked_at")),
                AuditEvent.objects.filter(org=sso_org).count())

    client = Client(enforce_csrf_checks=True)
    client.force_login(admin_user, backend="accounts.backends.EmailBackend")
    before = state()
    for pattern in urlpatterns:
        url = reverse(f"scim_dashboard:{pattern.name}", kwargs={"org_slug": sso_org.slug})
        response = client.post(url, {"confirm": "yes"})
        assert response.status_code == 403 and b"security token (CSRF)" in response.content, url
    assert state() == before
