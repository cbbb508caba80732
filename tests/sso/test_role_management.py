"""DS4's switch, "Manage roles through identity provider", on the SSO connection: the
service, Settings › Authentication and the API (issue 12 item 1)."""
import pytest

from orgs.models import AuditEvent
from sso.events import SSOEvents
from sso.models import SSOConnection
from sso.services import sso_set_role_management
from sso.signals import role_management_enabled

pytestmark = pytest.mark.django_db
API = "/api/v1/organizations/acme/sso"
PAGE = "/orgs/acme/settings/authentication/"


@pytest.fixture
def heard():
    calls = []

    def receiver(sender, *, org, actor, **kwargs):
        from django.db import connection as db

        calls.append((org.pk, actor.pk if actor else None, db.in_atomic_block))

    role_management_enabled.connect(receiver)
    yield calls
    role_management_enabled.disconnect(receiver)


def test_needs_sso_configured_only(org, admin_user):
    from config.errors import NotFound

    with pytest.raises(NotFound):
        sso_set_role_management(org=org, actor=admin_user, value=True)


def test_on_off_audited_and_announced_in_the_transaction(org, admin_user, connection, heard):
    """Available as soon as SSO is configured: not enabled, no Directory Sync."""
    assert not connection.is_enabled
    sso_set_role_management(org=org, actor=admin_user, value=True, role_attribute=" gh_role ",
                            groups_attribute="memberOf")
    connection.refresh_from_db()
    assert (connection.manage_roles_via_idp, connection.role_attribute, connection.groups_attribute) == (
        True, "gh_role", "memberOf")
    assert heard == [(org.pk, admin_user.pk, True)]
    event = AuditEvent.objects.get(org=org, event=SSOEvents.ROLE_MANAGEMENT_CHANGED)
    assert event.old == {"manage_roles_via_idp": False, "role_attribute": "planetscale_role",
                         "groups_attribute": "groups"}
    assert event.new == {"manage_roles_via_idp": True, "role_attribute": "gh_role", "groups_attribute": "memberOf"}
    # Idempotent: nothing changes, nothing is written or sent.
    sso_set_role_management(org=org, actor=admin_user, value=True, role_attribute="gh_role")
    assert AuditEvent.objects.filter(org=org, event=SSOEvents.ROLE_MANAGEMENT_CHANGED).count() == 1
    # A rename while on, and turning it off, are audited but announce nothing.
    sso_set_role_management(org=org, actor=admin_user, role_attribute="other_role")
    sso_set_role_management(org=org, actor=admin_user, value=False)
    assert len(heard) == 1
    assert AuditEvent.objects.filter(org=org, event=SSOEvents.ROLE_MANAGEMENT_CHANGED).count() == 3
    connection.refresh_from_db()
    assert not connection.manage_roles_via_idp and connection.role_attribute == "other_role"


@pytest.mark.parametrize("name", ["userName", "roles", "bad name!", "1role", "x" * 65, "rôle"])
def test_role_attribute_names_refused(org, admin_user, connection, name):
    from config.errors import ServiceError

    with pytest.raises(ServiceError) as refused:
        sso_set_role_management(org=org, actor=admin_user, value=True, role_attribute=name)
    assert refused.value.code == "invalid_role_attribute"
    connection.refresh_from_db()
    assert not connection.manage_roles_via_idp


def test_groups_attribute_may_be_a_claim_uri_but_not_too_long(org, admin_user, connection):
    from config.errors import ServiceError

    uri = "http://schemas.microsoft.com/ws/2008/06/identity/claims/groups"
    sso_set_role_management(org=org, actor=admin_user, groups_attribute=uri)
    assert SSOConnection.objects.get(org=org).groups_attribute == uri
    with pytest.raises(ServiceError):
        sso_set_role_management(org=org, actor=admin_user, groups_attribute="g" * 256)


def test_dashboard_switch(admin_client, member_client, member, org, connection, heard):
    page = admin_client.get(PAGE).content.decode()
    assert 'data-testid="role-management"' in page and "Manage roles through identity provider" in page
    response = admin_client.post(PAGE + "roles/", {"manage_roles_via_idp": "on", "role_attribute": "gh_role",
                                                   "groups_attribute": ""})
    assert response.status_code == 302
    connection.refresh_from_db()
    assert connection.manage_roles_via_idp and connection.role_attribute == "gh_role"
    assert connection.groups_attribute == "groups"  # empty: kept
    assert len(heard) == 1
    refused = admin_client.post(PAGE + "roles/", {"manage_roles_via_idp": "on", "role_attribute": "userName"})
    assert refused.status_code == 400 and "standard attribute" in refused.content.decode()
    # Unticked: off.
    assert admin_client.post(PAGE + "roles/", {"role_attribute": "gh_role"}).status_code == 302
    assert not SSOConnection.objects.get(org=org).manage_roles_via_idp
    # Members see the state, not the form, and cannot post.
    seen = member_client.get(PAGE).content.decode()
    assert 'data-testid="role-management"' in seen and 'name="manage_roles_via_idp"' not in seen
    assert member_client.post(PAGE + "roles/", {"manage_roles_via_idp": "on"}).status_code == 403
    assert not SSOConnection.objects.get(org=org).manage_roles_via_idp


def test_dashboard_card_waits_for_a_connection(admin_client, org):
    assert 'data-testid="role-management"' not in admin_client.get(PAGE).content.decode()
    assert admin_client.post(PAGE + "roles/", {"manage_roles_via_idp": "on"}).status_code == 400


def test_api_shows_and_changes_the_switch(admin_client, member_client, member, org, connection, heard):
    shown = member_client.get(API).json()
    assert (shown["manage_roles_via_idp"], shown["role_attribute"], shown["groups_attribute"]) == (
        False, "planetscale_role", "groups")
    response = admin_client.patch(API, {"manage_roles_via_idp": True, "role_attribute": "gh_role"},
                                  content_type="application/json")
    assert response.status_code == 200, response.json()
    assert response.json()["manage_roles_via_idp"] is True and response.json()["role_attribute"] == "gh_role"
    assert len(heard) == 1
    assert member_client.patch(API, {"manage_roles_via_idp": False},
                               content_type="application/json").status_code == 403
    assert admin_client.put(API, {"manage_roles_via_idp": "maybe"}, content_type="application/json"
                            ).status_code == 400
    assert SSOConnection.objects.get(org=org).manage_roles_via_idp


def test_api_refusal_leaves_the_rest_of_the_request_undone(admin_client, org, connection):
    response = admin_client.put(API, {"idp_slo_url": "https://idp.test/slo", "role_attribute": "userName"},
                                content_type="application/json")
    assert response.status_code == 400 and response.json()["code"] == "invalid_role_attribute"
    assert SSOConnection.objects.get(org=org).idp_slo_url == ""


def test_api_needs_a_connection(admin_client, org):
    response = admin_client.patch(API, {"manage_roles_via_idp": True}, content_type="application/json")
    assert response.status_code == 404


def test_other_org_cannot_touch_it(outsider_client, org, other_org, connection):
    assert outsider_client.patch(API, {"manage_roles_via_idp": True},
                                 content_type="application/json").status_code == 404
    assert outsider_client.post(PAGE + "roles/", {"manage_roles_via_idp": "on"}).status_code == 404
    assert not SSOConnection.objects.get(org=org).manage_roles_via_idp
