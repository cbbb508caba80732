"""DS4 over SCIM, with the switch on the SSO connection (issue 12): both positions, an
unknown value (400 invalidValue), the last administrator kept (audited), a hand-made
role put back at the directory's next word (audited)."""
import pytest

from orgs.models import AuditEvent, Membership
from orgs.services import membership_change_role
from sso.events import SSOEvents

from .conftest import assert_scim_error, patch_body, provision, set_role_management, user_body

pytestmark = pytest.mark.django_db
ADMIN, MEMBER = Membership.Role.ADMIN, Membership.Role.MEMBER


def role_of(org, email):
    return Membership.objects.get(org=org, user__email=email).role


@pytest.mark.parametrize("switch_on", [False, True])
def test_role_attribute_in_both_switch_positions(scim, org, switch_on):
    set_role_management(org, value=switch_on)
    user_id = scim.post("Users", user_body("r@acme.test", planetscale_role="admin")).json()["id"]
    assert role_of(org, "r@acme.test") == (ADMIN if switch_on else MEMBER)
    response = scim.patch(f"Users/{user_id}", patch_body({"op": "replace", "path": "planetscale_role",
                                                          "value": "MEMBER"}))
    assert response.status_code == 200, response.content
    assert role_of(org, "r@acme.test") == MEMBER


def test_custom_attribute_name_comes_from_the_connection(scim, org):
    set_role_management(org, role_attribute="gh_role")
    provision_body = user_body("c@acme.test", gh_role="admin", planetscale_role="member")
    assert scim.post("Users", provision_body).status_code == 201
    assert role_of(org, "c@acme.test") == ADMIN


@pytest.mark.parametrize("switch_on", [False, True])
def test_unknown_value_is_400_invalid_value_and_changes_nothing(scim, org, switch_on):
    set_role_management(org, value=switch_on)
    assert_scim_error(scim.post("Users", user_body("u@acme.test", planetscale_role="owner")), 400, "invalidValue")
    assert not Membership.objects.filter(org=org, user__email="u@acme.test").exists()
    user_id = provision(scim, "u@acme.test")
    assert_scim_error(scim.patch(f"Users/{user_id}", patch_body(
        {"op": "replace", "path": "planetscale_role", "value": "root"})), 400, "invalidValue")
    assert_scim_error(scim.patch(f"Users/{user_id}", patch_body(
        {"op": "replace", "path": "roles", "value": [{"value": "superuser"}]})), 400, "invalidValue")
    assert role_of(org, "u@acme.test") == MEMBER


def test_the_last_administrator_is_never_demoted_by_the_directory(scim, org, admin_user):
    set_role_management(org)
    # The organization's only administrator, pushed by the directory as an administrator.
    user_id = scim.post("Users", user_body(admin_user.email, planetscale_role="admin")).json()["id"]
    response = scim.patch(f"Users/{user_id}", patch_body({"op": "replace", "path": "planetscale_role",
                                                          "value": "member"}))
    assert response.status_code == 200, response.content  # the request succeeds …
    assert role_of(org, admin_user.email) == ADMIN  # … the role stays …
    kept = AuditEvent.objects.get(org=org, event=SSOEvents.IDP_ROLE_KEPT)  # … and the log says why
    assert kept.actor_label == "directory" and kept.new["reason"] == "last_admin" and kept.new["role"] == MEMBER
    # With another administrator, the same word demotes.
    provision_admin = scim.post("Users", user_body("second@acme.test", planetscale_role="admin"))
    assert provision_admin.status_code == 201
    scim.patch(f"Users/{user_id}", patch_body({"op": "replace", "path": "name.givenName", "value": "Ada"}))
    assert role_of(org, admin_user.email) == MEMBER


def test_turning_the_switch_on_keeps_the_last_administrator(scim, org, admin_user):
    scim.post("Users", user_body(admin_user.email, planetscale_role="member"))
    set_role_management(org)
    assert role_of(org, admin_user.email) == ADMIN
    assert AuditEvent.objects.filter(org=org, event=SSOEvents.IDP_ROLE_KEPT).count() == 1


def test_a_hand_made_role_is_undone_at_the_directorys_next_word(scim, org, admin_user, member):
    set_role_management(org)
    # Promoted by hand before the directory held them: the directory's word puts the role back.
    membership_change_role(org=org, membership=member, role=ADMIN, actor=admin_user)
    user_id = scim.post("Users", user_body(member.user.email, planetscale_role="member")).json()["id"]
    assert role_of(org, member.user.email) == MEMBER
    # Changed by hand again (outside the directory's management), undone at the next PATCH on that user.
    Membership.objects.filter(pk=member.pk).update(role=ADMIN)
    scim.patch(f"Users/{user_id}", patch_body({"op": "replace", "path": "displayName", "value": "Max M"}))
    assert role_of(org, member.user.email) == MEMBER
    changes = AuditEvent.objects.filter(org=org, event="member.role_changed", actor_label="directory",
                                        target_id=str(member.pk))
    assert [(e.old["role"], e.new["role"]) for e in changes.order_by("pk")] == [(ADMIN, MEMBER), (ADMIN, MEMBER)]


def test_switch_off_leaves_a_hand_made_role(scim, org, admin_user, member):
    membership_change_role(org=org, membership=member, role=ADMIN, actor=admin_user)
    scim.post("Users", user_body(member.user.email, planetscale_role="member"))
    assert role_of(org, member.user.email) == ADMIN
