"""SCIM Groups → directory-managed teams (DS3, DS6): create, rename, members, delete."""
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from orgs.models import AuditEvent
from scim.models import DirectoryGroup, DirectoryGroupMember
from teams.models import Team, TeamMember

from .conftest import assert_scim_error, patch_body, user_body

pytestmark = pytest.mark.django_db


def make_users(scim, n, prefix="g"):
    return [scim.post("Users", user_body(f"{prefix}{i}@acme.test")).json()["id"] for i in range(n)]


def make_group(scim, name="Engineering", members=()):
    response = scim.post("Groups", {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
                                    "displayName": name, "externalId": f"ext-{name}",
                                    "members": [{"value": m} for m in members]})
    assert response.status_code == 201, response.content
    return response.json()


def team_members(group_id):
    team = DirectoryGroup.objects.get(pk=group_id).team
    return sorted(tm.membership.user.email for tm in TeamMember.objects.filter(team=team))


def test_create_group_makes_directory_managed_team_with_members(scim, org):
    ids = make_users(scim, 2)
    group = make_group(scim, members=ids)
    assert group["displayName"] == "Engineering"
    assert sorted(m["value"] for m in group["members"]) == sorted(ids)
    team = Team.objects.get(org=org, name="Engineering")
    assert team.directory_managed
    assert team_members(group["id"]) == ["g0@acme.test", "g1@acme.test"]
    assert AuditEvent.objects.filter(org=org, event="directory.group_created", actor_label="directory").exists()


def test_duplicate_display_name_is_409(scim):
    make_group(scim, "Ops")
    assert_scim_error(scim.post("Groups", {"displayName": "ops"}), 409, "uniqueness")
    assert Team.objects.filter(name__iexact="ops").count() == 1


@pytest.mark.parametrize("body", [{}, {"displayName": ""}, {"displayName": 7}, {"displayName": "x" * 101},
                                  {"displayName": "A", "members": [{"value": "abc"}]},
                                  {"displayName": "A", "members": [{"value": "999999"}]},
                                  {"displayName": "A", "members": "nope"}])
def test_bad_group_bodies_are_400(scim, body):
    assert_scim_error(scim.post("Groups", body), 400)
    assert not Team.objects.exists()


def test_get_group_with_and_without_members(scim):
    ids = make_users(scim, 3)
    group = make_group(scim, members=ids)
    full = scim.get(f"Groups/{group['id']}").json()
    assert [m["value"] for m in full["members"]] == ids
    lean = scim.get(f"Groups/{group['id']}", excludedAttributes="members").json()
    assert "members" not in lean and lean["displayName"] == "Engineering"
    with CaptureQueriesContext(connection) as queries:
        scim.get(f"Groups/{group['id']}", excludedAttributes="members")
    assert not any("scim_directorygroupmember" in q["sql"] for q in queries.captured_queries)


def test_list_and_filter_groups(scim):
    ids = make_users(scim, 1)
    a = make_group(scim, "Alpha", members=ids)
    b = make_group(scim, "Beta")
    page = scim.get("Groups", excludedAttributes="members").json()
    assert page["totalResults"] == 2 and all("members" not in r for r in page["Resources"])
    assert [r["id"] for r in scim.get("Groups", filter='displayName eq "alpha"').json()["Resources"]] == [a["id"]]
    assert [r["id"] for r in scim.get("Groups", filter='externalId eq "ext-Beta"').json()["Resources"]] == [b["id"]]
    member_filter = scim.get("Groups", filter=f'members[value eq "{ids[0]}"]').json()
    assert [r["id"] for r in member_filter["Resources"]] == [a["id"]]
    assert_scim_error(scim.get("Groups", filter='userName eq "x"'), 400, "invalidFilter")


def test_patch_add_remove_and_mixed(scim):
    ids = make_users(scim, 4)
    group = make_group(scim, members=ids[:1])
    url = f"Groups/{group['id']}"
    response = scim.patch(url, patch_body({"op": "Add", "path": "members",
                                           "value": [{"value": ids[1]}, {"value": ids[2]}]}))
    assert response.status_code == 204
    assert team_members(group["id"]) == ["g0@acme.test", "g1@acme.test", "g2@acme.test"]
    response = scim.patch(url, patch_body({"op": "Remove", "path": f'members[value eq "{ids[0]}"]'}))
    assert response.status_code == 204
    assert team_members(group["id"]) == ["g1@acme.test", "g2@acme.test"]
    response = scim.patch(url, patch_body(
        {"op": "remove", "path": "members", "value": [{"value": ids[1]}]},
        {"op": "add", "path": "members", "value": [{"value": ids[3]}]},
    ))
    assert response.status_code == 204
    assert team_members(group["id"]) == ["g2@acme.test", "g3@acme.test"]
    response = scim.patch(url + "?excludedAttributes=members", patch_body(
        {"op": "replace", "path": "members", "value": []}))
    assert response.status_code == 200 and "members" not in response.json()
    assert team_members(group["id"]) == []


def test_patch_rename_okta_style_and_path(scim, org):
    group = make_group(scim)
    url = f"Groups/{group['id']}"
    response = scim.patch(url, patch_body({"op": "replace", "value": {"id": group["id"], "displayName": "Eng"}}))
    assert response.status_code == 204
    assert Team.objects.get(pk=DirectoryGroup.objects.get(pk=group["id"]).team_id).name == "Eng"
    scim.patch(url, patch_body({"op": "Replace", "path": "displayName", "value": "Platform"}))
    assert scim.get(url).json()["displayName"] == "Platform"
    make_group(scim, "Taken")
    assert_scim_error(scim.patch(url, patch_body({"op": "replace", "path": "displayName", "value": "taken"})),
                      409, "uniqueness")


@pytest.mark.parametrize("operation, scim_type", [
    ({"op": "move", "path": "members", "value": []}, "invalidSyntax"),
    ({"op": "remove"}, "noTarget"),
    ({"op": "add", "path": "owners", "value": [{"value": "1"}]}, "invalidPath"),
    ({"op": "add", "path": "members", "value": [{"value": "999999"}]}, "invalidValue"),
    ({"op": "add", "path": "members[", "value": []}, "invalidPath"),
    ({"op": "replace", "path": "id", "value": "5"}, "mutability"),
])
def test_bad_group_patches_are_400_and_change_nothing(scim, operation, scim_type):
    ids = make_users(scim, 1)
    group = make_group(scim, members=ids)
    assert_scim_error(scim.patch(f"Groups/{group['id']}", patch_body(operation)), 400, scim_type)
    assert team_members(group["id"]) == ["g0@acme.test"]


def test_patch_members_is_set_based(scim):
    ids = make_users(scim, 30)
    group = make_group(scim, members=ids[:2])
    with CaptureQueriesContext(connection) as few:
        scim.patch(f"Groups/{group['id']}", patch_body({"op": "add", "path": "members",
                                                        "value": [{"value": i} for i in ids[2:4]]}))
    with CaptureQueriesContext(connection) as many:
        scim.patch(f"Groups/{group['id']}", patch_body({"op": "add", "path": "members",
                                                        "value": [{"value": i} for i in ids[4:]]}))
    assert len(many.captured_queries) == len(few.captured_queries)
    assert DirectoryGroupMember.objects.filter(group_id=group["id"]).count() == 30


def test_put_replaces_members_and_name(scim):
    ids = make_users(scim, 3)
    group = make_group(scim, members=ids[:2])
    response = scim.put(f"Groups/{group['id']}", {"displayName": "Renamed", "members": [{"value": ids[2]}]})
    assert response.status_code == 200, response.content
    assert response.json()["displayName"] == "Renamed"
    assert team_members(group["id"]) == ["g2@acme.test"]
    assert_scim_error(scim.put("Groups/999999", {"displayName": "x"}), 404)


def test_delete_group_deletes_team(scim, org):
    group = make_group(scim)
    assert scim.delete(f"Groups/{group['id']}").status_code == 204
    assert not Team.objects.filter(org=org).exists()
    assert_scim_error(scim.get(f"Groups/{group['id']}"), 404)
    assert_scim_error(scim.delete(f"Groups/{group['id']}"), 404)


def test_deactivated_member_leaves_team_and_returns_on_reactivation(scim, org):
    ids = make_users(scim, 1)
    group = make_group(scim, members=ids)
    scim.patch(f"Users/{ids[0]}", patch_body({"op": "replace", "path": "active", "value": "False"}))
    assert team_members(group["id"]) == []
    assert DirectoryGroupMember.objects.filter(group_id=group["id"]).count() == 1
    assert [m["value"] for m in scim.get(f"Groups/{group['id']}").json()["members"]] == ids
    scim.patch(f"Users/{ids[0]}", patch_body({"op": "replace", "value": {"active": "True"}}))
    assert team_members(group["id"]) == ["g0@acme.test"]


def test_directory_team_cannot_be_edited_by_hand(scim, org, admin_user):
    from config.errors import NotAllowed
    from teams.services import team_rename

    group = make_group(scim)
    team = DirectoryGroup.objects.get(pk=group["id"]).team
    with pytest.raises(NotAllowed):
        team_rename(org=org, team=team, name="Manual", actor=admin_user)
