"""DS1–DS6 and D2 through the services, and the role attribute (DS4)."""
import pytest

from config.errors import Conflict, NotAllowed
from orgs.models import AuditEvent, Membership
from orgs.services import membership_change_role, membership_remove
from scim.models import Directory, DirectoryToken, DirectoryUser
from scim.services import directory_disable, directory_enable
from sso.models import SSOConnection
from teams.models import Team
from teams.services import team_create

from .conftest import assert_scim_error, enable_sso, patch_body, set_role_management, user_body

pytestmark = pytest.mark.django_db


def test_ds1_enabling_requires_sso(org, admin_user):
    with pytest.raises(NotAllowed) as exc:
        directory_enable(org=org, actor=admin_user)
    assert exc.value.code == "sso_not_enabled"
    assert not DirectoryToken.objects.filter(org=org).exists()


def test_ds2_enable_returns_token_once_and_stores_only_its_hash(sso_org, admin_user):
    directory, token = directory_enable(org=sso_org, actor=admin_user)
    assert directory.enabled and token.startswith("ghscim_")
    stored = DirectoryToken.objects.get(org=sso_org)
    assert stored.token_hash != token and token.startswith(stored.prefix)
    with pytest.raises(Conflict):
        directory_enable(org=sso_org, actor=admin_user)
    assert DirectoryToken.objects.filter(org=sso_org).count() == 1
    event = AuditEvent.objects.get(org=sso_org, event="directory.enabled")
    assert event.actor == admin_user and token not in str(event.new)


def test_ds5_enabling_clears_existing_teams(sso_org, admin_user, member):
    team_create(org=sso_org, name="Legacy", actor=admin_user)
    team_create(org=sso_org, name="Old", actor=admin_user)
    directory_enable(org=sso_org, actor=admin_user)
    assert not Team.objects.filter(org=sso_org).exists()
    assert AuditEvent.objects.filter(org=sso_org, event="team.deleted").count() == 2
    assert Membership.objects.filter(org=sso_org).count() == 2  # members stay


def test_ds3_no_hand_made_teams_while_directory_sync_is_on(sso_org, admin_user, client):
    from tests.conftest import client_for

    directory_enable(org=sso_org, actor=admin_user)
    with pytest.raises(NotAllowed) as exc:
        team_create(org=sso_org, name="Manual", actor=admin_user)
    assert exc.value.code == "directory_managed"
    admin = client_for(admin_user)
    page = admin.post(f"/orgs/{sso_org.slug}/settings/teams/", {"name": "Manual"})
    assert page.status_code in (400, 403) and b"identity provider" in page.content
    api = admin.post(f"/api/v1/organizations/{sso_org.slug}/teams", {"name": "Manual"},
                     content_type="application/json")
    assert api.status_code == 403 and api.json()["code"] == "directory_managed"
    assert not Team.objects.filter(org=sso_org).exists()
    directory_disable(org=sso_org, actor=admin_user)
    assert team_create(org=sso_org, name="Manual", actor=admin_user).name == "Manual"


def test_d2_disabling_sso_turns_directory_sync_off(scim, admin_user, org):
    from sso.services import sso_disable

    user_id = scim.post("Users", user_body("kim@acme.test")).json()["id"]
    scim.post("Groups", {"displayName": "Crew", "members": [{"value": user_id}]})
    sso_disable(org=org, actor=admin_user)
    assert SSOConnection.objects.get(org=org).state == SSOConnection.State.CONFIGURED
    assert not Directory.objects.get(org=org).enabled
    assert_scim_error(scim.get("Users"), 401)
    # Memberships and teams stay, released from directory management.
    membership = Membership.objects.get(org=org, user__email="kim@acme.test")
    assert not membership.directory_managed
    assert not Team.objects.get(org=org, name="Crew").directory_managed
    assert AuditEvent.objects.filter(org=org, event="directory.disabled", new__reason="sso_disabled").exists()


def test_disable_is_idempotent(scim, admin_user, org):
    assert directory_disable(org=org, actor=admin_user) is True
    assert directory_disable(org=org, actor=admin_user) is False


def test_ds3_deactivation_removes_access(scim, org):
    from django.test import Client

    from tests.conftest import PASSWORD, make_user, sso_client_for

    account = make_user("lee@acme.test", PASSWORD)
    user_id = scim.post("Users", user_body("lee@acme.test")).json()["id"]
    password_session = Client()
    password_session.force_login(account, backend="accounts.backends.EmailBackend")
    assert Membership.objects.filter(org=org, user=account).exists()
    # E12: attached by the directory, but a password session does not reach an SSO-enforced organization.
    assert password_session.get("/orgs/acme/settings/members/").status_code == 302
    client = sso_client_for(account, org)
    assert client.get("/orgs/acme/settings/members/").status_code == 200
    scim.patch(f"Users/{user_id}", patch_body({"op": "replace", "path": "active", "value": False}))
    assert not Membership.objects.filter(org=org, user=account).exists()
    assert client.get("/orgs/acme/settings/members/").status_code == 404
    account.refresh_from_db()
    assert account.has_usable_password()  # credentials untouched


def test_ds4_role_ignored_unless_managed(scim, org):
    scim.post("Users", user_body("r1@acme.test", planetscale_role="admin"))
    assert Membership.objects.get(org=org, user__email="r1@acme.test").role == "member"
    assert DirectoryUser.objects.get(user_name="r1@acme.test").role == "admin"


def test_ds4_role_follows_attribute_when_managed(scim, org, admin_user):
    set_role_management(org)
    user_id = scim.post("Users", user_body("r2@acme.test", planetscale_role="admin")).json()["id"]
    assert Membership.objects.get(org=org, user__email="r2@acme.test").role == "admin"
    scim.patch(f"Users/{user_id}", patch_body({"op": "replace", "path": "planetscale_role", "value": "member"}))
    assert Membership.objects.get(org=org, user__email="r2@acme.test").role == "member"
    # Entra app roles: the multi-valued roles attribute.
    other = scim.post("Users", user_body("r3@acme.test", roles=[{"value": "admin", "primary": True}])).json()
    assert Membership.objects.get(org=org, user__email="r3@acme.test").role == "admin"
    assert_scim_error(scim.patch(f"Users/{other['id']}", patch_body(
        {"op": "replace", "path": "roles", "value": [{"value": "root"}]})), 400, "invalidValue")
    assert Membership.objects.get(org=org, user__email="r3@acme.test").role == "admin"


def test_ds4_turning_on_applies_stored_roles_and_custom_attribute(scim, org, admin_user):
    scim.post("Users", user_body("r4@acme.test", planetscale_role="admin"))
    set_role_management(org)
    assert Membership.objects.get(org=org, user__email="r4@acme.test").role == "admin"
    set_role_management(org, role_attribute="gh_role")
    scim.post("Users", user_body("r5@acme.test", gh_role="admin"))
    assert Membership.objects.get(org=org, user__email="r5@acme.test").role == "admin"
    # The attribute name's own rules (a standard attribute, a bad name) are the SSO
    # connection's service's: tests/sso.


def test_ds6_directory_members_refuse_manual_edits(scim, org, admin_user):
    scim.post("Users", user_body("m6@acme.test"))
    membership = Membership.objects.get(org=org, user__email="m6@acme.test")
    assert membership.directory_managed
    with pytest.raises(NotAllowed):
        membership_change_role(org=org, membership=membership, role="admin", actor=admin_user)
    with pytest.raises(NotAllowed):
        membership_remove(org=org, membership=membership, actor=admin_user)


def test_reenable_after_disable_starts_clean(scim, org, admin_user):
    scim.post("Users", user_body("z@acme.test"))
    directory_disable(org=org, actor=admin_user)
    enable_sso(org)
    _, token = directory_enable(org=org, actor=admin_user)
    assert not DirectoryUser.objects.filter(org=org).exists()
    response = scim.post("Users", user_body("z@acme.test"), token=token)
    assert response.status_code == 201
    assert Membership.objects.get(org=org, user__email="z@acme.test").directory_managed
