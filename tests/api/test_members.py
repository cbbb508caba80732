"""Members: list, read, change role / DBA grant, remove, leave; roles and cross-organization invisibility."""
import pytest

from accounts.models import User
from orgs.models import AuditEvent, Membership
from orgs.services import membership_add
from teams.services import team_create, team_member_add

from .conftest import assert_error, org_url

pytestmark = pytest.mark.django_db


def _state(org):
    return list(Membership.objects.filter(org=org).order_by("pk").values_list("pk", "role", "is_database_admin")), \
        AuditEvent.objects.filter(org=org).count()


def test_member_list_shows_people_roles_and_teams(member_api, org, admin_user, member):
    team = team_create(org=org, name="Backend", actor=admin_user)
    team_member_add(org=org, team=team, membership=member, actor=admin_user)
    body = member_api.get(org_url(org, "/members")).json()
    assert body["count"] == 2 and body["previous"] is None and body["next"] is None
    by_email = {row["user"]["email"]: row for row in body["results"]}
    assert by_email["ada@acme.test"]["role"] == "admin"
    assert by_email["ada@acme.test"]["teams"] == []
    assert by_email["max@acme.test"] == {
        "id": member.pk,
        "user": {"id": member.user_id, "email": "max@acme.test", "first_name": "Max", "last_name": "Member",
                 "display_name": "Max Member"},
        "role": "member", "is_database_admin": False, "directory_managed": False, "teams": ["Backend"],
        "created_at": by_email["max@acme.test"]["created_at"],
    }


def test_member_detail(member_api, org, member):
    body = member_api.get(org_url(org, f"/members/{member.pk}")).json()
    assert body["user"]["email"] == "max@acme.test"


def test_other_orgs_members_are_invisible(admin_api, org, member, other_world):
    other_membership = other_world["membership"]
    emails = [r["user"]["email"] for r in admin_api.get(org_url(org, "/members")).json()["results"]]
    assert "olga@other.test" not in emails
    for method in ("get", "delete"):
        assert_error(getattr(admin_api, method)(org_url(org, f"/members/{other_membership.pk}")), 404)
    assert_error(admin_api.patch(org_url(org, f"/members/{other_membership.pk}"), {"role": "admin"}), 404)
    assert_error(admin_api.get(org_url(other_world["org"], "/members")), 404)
    assert Membership.objects.get(pk=other_membership.pk).role == "admin"


def test_admin_changes_role_and_database_admin(admin_api, org, member):
    response = admin_api.patch(org_url(org, f"/members/{member.pk}"), {"role": "admin", "is_database_admin": True})
    assert response.status_code == 200, response.content
    assert response.json()["role"] == "admin" and response.json()["is_database_admin"] is True
    member.refresh_from_db()
    assert member.role == "admin" and member.is_database_admin
    events = set(AuditEvent.objects.filter(org=org).values_list("event", flat=True))
    assert {"member.role_changed", "member.database_admin_changed"} <= events


def test_member_cannot_change_roles(member_api, org, member, admin_membership):
    before = _state(org)
    assert_error(member_api.patch(org_url(org, f"/members/{admin_membership.pk}"), {"role": "member"}), 403,
                 "permission_denied")
    assert_error(member_api.patch(org_url(org, f"/members/{member.pk}"), {"is_database_admin": True}), 403)
    assert _state(org) == before


def test_member_token_cannot_change_roles(member_token_api, org, member):
    before = _state(org)
    assert_error(member_token_api.patch(org_url(org, f"/members/{member.pk}"), {"role": "admin"}), 403)
    assert _state(org) == before


def test_nobody_changes_their_own_role(admin_api, org, admin_user, admin_membership):
    membership_add(org=org, user=User.objects.create_user("bea@acme.test"), role="admin", actor=None)
    before = _state(org)
    assert_error(admin_api.patch(org_url(org, f"/members/{admin_membership.pk}"), {"role": "member"}), 403,
                 "own_role")
    assert _state(org) == before


@pytest.mark.parametrize("body", [{}, {"role": "owner"}, {"role": ""}, {"is_database_admin": "maybe"},
                                  {"role": None}, {"role": ["admin"]}])
def test_bad_member_update_is_400(admin_api, org, member, body):
    before = _state(org)
    response = admin_api.patch(org_url(org, f"/members/{member.pk}"), body)
    assert_error(response, 400, "invalid")
    assert _state(org) == before


def test_unknown_field_in_member_update(admin_api, org, member):
    before = _state(org)
    assert_error(admin_api.patch(org_url(org, f"/members/{member.pk}"), {"is_db_admin": True}), 400, "unknown_field")
    assert _state(org) == before


def test_role_and_grant_change_together_or_not_at_all(admin_api, org, admin_membership):
    # Own role refused → the DBA grant in the same request is not applied either.
    membership_add(org=org, user=User.objects.create_user("bea@acme.test"), role="admin", actor=None)
    before = _state(org)
    response = admin_api.patch(org_url(org, f"/members/{admin_membership.pk}"),
                               {"is_database_admin": True, "role": "member"})
    assert response.status_code == 403
    assert _state(org) == before


def test_directory_managed_member_role_is_refused(admin_api, org):
    scim_user = User.objects.create_user("dir@acme.test")
    managed = membership_add(org=org, user=scim_user, role="member", actor=None, directory_managed=True)
    assert_error(admin_api.patch(org_url(org, f"/members/{managed.pk}"), {"role": "admin"}), 403, "directory_managed")
    assert_error(admin_api.delete(org_url(org, f"/members/{managed.pk}")), 403, "directory_managed")
    assert Membership.objects.filter(pk=managed.pk, role="member").exists()


def test_admin_removes_member(admin_api, org, member):
    assert admin_api.delete(org_url(org, f"/members/{member.pk}")).status_code == 204
    assert not Membership.objects.filter(pk=member.pk).exists()
    assert AuditEvent.objects.filter(org=org, event="member.removed").count() == 1
    assert_error(admin_api.delete(org_url(org, f"/members/{member.pk}")), 404)


def test_member_cannot_remove_others_but_can_leave(member_api, org, member, admin_membership):
    before = _state(org)
    assert_error(member_api.delete(org_url(org, f"/members/{admin_membership.pk}")), 403, "permission_denied")
    assert _state(org) == before
    assert member_api.delete(org_url(org, f"/members/{member.pk}")).status_code == 204
    assert not Membership.objects.filter(pk=member.pk).exists()
    event = AuditEvent.objects.get(org=org, event="member.removed")
    assert event.new == {"reason": "left"}
    # Access ends at once.
    assert_error(member_api.get(org_url(org, "/members")), 404)


def test_last_admin_cannot_leave(admin_api, org, admin_membership):
    before = _state(org)
    assert_error(admin_api.delete(org_url(org, f"/members/{admin_membership.pk}")), 409, "last_admin")
    assert _state(org) == before


def test_admin_token_can_remove_member(admin_token_api, org, member):
    assert admin_token_api.delete(org_url(org, f"/members/{member.pk}")).status_code == 204
    assert AuditEvent.objects.get(org=org, event="member.removed").actor.email == "ada@acme.test"
