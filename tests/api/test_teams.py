"""Teams and team members through the API."""
import pytest

from accounts.models import User
from orgs.models import AuditEvent
from orgs.services import membership_add
from teams.models import Team, TeamMember
from teams.services import team_create, team_member_add

from .conftest import assert_error, org_url

pytestmark = pytest.mark.django_db


def _state(org):
    return (list(Team.objects.filter(org=org).order_by("pk").values_list("pk", "name")),
            list(TeamMember.objects.filter(org=org).order_by("pk").values_list("team_id", "membership_id")),
            AuditEvent.objects.filter(org=org).count())


@pytest.fixture
def team(org, admin_user):
    return team_create(org=org, name="Backend", actor=admin_user)


def test_admin_creates_renames_deletes_team(admin_api, org):
    response = admin_api.post(org_url(org, "/teams"), {"name": "  Backend  "})
    assert response.status_code == 201
    team = response.json()
    assert team["name"] == "Backend" and team["member_count"] == 0 and team["directory_managed"] is False
    response = admin_api.patch(org_url(org, f"/teams/{team['id']}"), {"name": "Platform"})
    assert response.status_code == 200 and response.json()["name"] == "Platform"
    assert admin_api.get(org_url(org, f"/teams/{team['id']}")).json()["name"] == "Platform"
    assert admin_api.delete(org_url(org, f"/teams/{team['id']}")).status_code == 204
    assert not Team.objects.filter(org=org).exists()
    events = list(AuditEvent.objects.filter(org=org, event__startswith="team.").values_list("event", flat=True))
    assert sorted(events) == ["team.created", "team.deleted", "team.renamed"]


def test_member_reads_but_cannot_change_teams(member_api, org, team, member):
    assert member_api.get(org_url(org, "/teams")).json()["count"] == 1
    assert member_api.get(org_url(org, f"/teams/{team.pk}/members")).status_code == 200
    before = _state(org)
    assert_error(member_api.post(org_url(org, "/teams"), {"name": "New"}), 403)
    assert_error(member_api.patch(org_url(org, f"/teams/{team.pk}"), {"name": "New"}), 403)
    assert_error(member_api.delete(org_url(org, f"/teams/{team.pk}")), 403)
    assert_error(member_api.post(org_url(org, f"/teams/{team.pk}/members"), {"membership_id": member.pk}), 403)
    assert _state(org) == before


def test_duplicate_team_name_is_409(admin_api, org, team):
    before = _state(org)
    assert_error(admin_api.post(org_url(org, "/teams"), {"name": "BACKEND"}), 409, "name_taken")
    other = team_create(org=org, name="Frontend", actor=None)
    assert_error(admin_api.patch(org_url(org, f"/teams/{other.pk}"), {"name": "backend"}), 409, "name_taken")
    assert Team.objects.get(pk=other.pk).name == "Frontend"
    assert len(_state(org)[0]) == len(before[0]) + 1


@pytest.mark.parametrize("body,code", [({"name": ""}, "invalid"), ({"name": "   "}, "invalid"),
                                       ({"name": 5 * "x" * 21}, "invalid"), ({"nom": "x"}, "unknown_field")])
def test_bad_team_input(admin_api, org, team, body, code):
    before = _state(org)
    assert_error(admin_api.post(org_url(org, "/teams"), body), 400, code)
    assert_error(admin_api.patch(org_url(org, f"/teams/{team.pk}"), body), 400, code)
    assert _state(org) == before


def test_team_members_add_list_remove(admin_api, org, team, member):
    response = admin_api.post(org_url(org, f"/teams/{team.pk}/members"), {"membership_id": member.pk})
    assert response.status_code == 201, response.content
    assert response.json()["user"]["email"] == "max@acme.test" and response.json()["membership_id"] == member.pk
    body = admin_api.get(org_url(org, f"/teams/{team.pk}/members")).json()
    assert [r["membership_id"] for r in body["results"]] == [member.pk]
    assert admin_api.get(org_url(org, f"/teams/{team.pk}")).json()["member_count"] == 1
    assert admin_api.delete(org_url(org, f"/teams/{team.pk}/members/{member.pk}")).status_code == 204
    assert not TeamMember.objects.filter(team=team).exists()
    assert_error(admin_api.delete(org_url(org, f"/teams/{team.pk}/members/{member.pk}")), 404)


@pytest.mark.parametrize("body,status,code", [({}, 400, "invalid"), ({"membership_id": "abc"}, 400, "invalid"),
                                              ({"membership_id": 0}, 400, "invalid"),
                                              ({"membership_id": 987654}, 404, "not_found")])
def test_bad_team_member_input(admin_api, org, team, body, status, code):
    before = _state(org)
    assert_error(admin_api.post(org_url(org, f"/teams/{team.pk}/members"), body), status, code)
    assert _state(org) == before


def test_directory_managed_team_is_read_only(admin_api, org, member):
    managed = team_create(org=org, name="IdP group", actor=None, directory_managed=True)
    before = _state(org)
    assert_error(admin_api.patch(org_url(org, f"/teams/{managed.pk}"), {"name": "Mine"}), 403, "directory_managed")
    assert_error(admin_api.delete(org_url(org, f"/teams/{managed.pk}")), 403, "directory_managed")
    assert_error(admin_api.post(org_url(org, f"/teams/{managed.pk}/members"), {"membership_id": member.pk}), 403,
                 "directory_managed")
    assert _state(org) == before
    assert admin_api.get(org_url(org, f"/teams/{managed.pk}")).json()["directory_managed"] is True


def test_other_orgs_teams_and_team_members_are_invisible(admin_api, org, team, member, other_world):
    other_team, other_membership = other_world["team"], other_world["membership"]
    assert [t["id"] for t in admin_api.get(org_url(org, "/teams")).json()["results"]] == [team.pk]
    for suffix in (f"/teams/{other_team.pk}", f"/teams/{other_team.pk}/members"):
        assert_error(admin_api.get(org_url(org, suffix)), 404)
    assert_error(admin_api.patch(org_url(org, f"/teams/{other_team.pk}"), {"name": "pwned"}), 404)
    assert_error(admin_api.delete(org_url(org, f"/teams/{other_team.pk}")), 404)
    assert_error(admin_api.delete(org_url(org, f"/teams/{other_team.pk}/members/{other_membership.pk}")), 404)
    # Another organization's member cannot be added to my team.
    assert_error(admin_api.post(org_url(org, f"/teams/{team.pk}/members"), {"membership_id": other_membership.pk}),
                 404)
    assert_error(admin_api.post(org_url(org, f"/teams/{other_team.pk}/members"), {"membership_id": member.pk}), 404)
    assert Team.objects.get(pk=other_team.pk).name == "Other team"
    assert TeamMember.objects.filter(team=other_team).count() == 1
    assert not TeamMember.objects.filter(team=team).exists()
    assert_error(admin_api.get(org_url(other_world["org"], "/teams")), 404)


def test_member_list_shows_team_names_sorted(admin_api, org, member):
    for name in ("Zeta", "Alpha"):
        team_member_add(org=org, team=team_create(org=org, name=name, actor=None), membership=member, actor=None)
    row = admin_api.get(org_url(org, f"/members/{member.pk}")).json()
    assert row["teams"] == ["Alpha", "Zeta"]


def test_removed_member_leaves_teams(admin_api, org, team, member):
    team_member_add(org=org, team=team, membership=member, actor=None)
    admin_api.delete(org_url(org, f"/members/{member.pk}"))
    assert admin_api.get(org_url(org, f"/teams/{team.pk}/members")).json()["count"] == 0
    # Re-joining does not restore team membership (SPEC E6).
    membership = membership_add(org=org, user=User.objects.get(email="max@acme.test"), actor=None)
    assert admin_api.get(org_url(org, f"/members/{membership.pk}")).json()["teams"] == []
