"""Group rules (issue 12 item 3): services, the preview, the dashboard page and the API.

A rule maps an IdP group (SCIM groups under Directory Sync, the SAML groups attribute
otherwise) to a role, the Database Administrator grant and a team; saving a rule applies
the rule set to every member whose groups are known. Precedence: admin beats member, a
grant from any rule grants."""
import pytest

from orgs.models import AuditEvent, Membership
from orgs.services import membership_add, membership_set_database_admin
from sso.events import SSOEvents
from sso.group_rules import (
    group_rule_create,
    group_rule_remove,
    group_rule_update,
    group_rules_preview,
    proposed_rules,
)
from sso.models import GroupRule, SSOIdentity
from teams.models import Team, TeamMember
from teams.services import team_create, team_member_add

from ..conftest import client_for, make_user
from ..scim.conftest import directory_for, enable_sso, provision

pytestmark = pytest.mark.django_db

API = "/api/v1/organizations/acme/sso/group-rules"
PAGE = "/orgs/acme/settings/authentication/group-rules/"


def saml_groups(org, membership, groups):
    """The member signed in through the IdP, whose groups attribute listed `groups`."""
    SSOIdentity.objects.update_or_create(user=membership.user, defaults={
        "org": org, "name_id": membership.user.email, "idp_groups": list(groups),
        "idp_attributes": {"groups": list(groups)}})


def fresh(membership) -> Membership:
    return Membership.objects.get(pk=membership.pk)


def state(membership) -> tuple:
    m = fresh(membership)
    teams = sorted(TeamMember.objects.filter(membership=m).values_list("team__name", flat=True))
    return m.role, m.is_database_admin, teams


@pytest.fixture
def person(org):
    """A second member, in the group Engineering at the IdP."""
    membership = membership_add(org=org, user=make_user("erin@acme.test"), role=Membership.Role.MEMBER, actor=None)
    saml_groups(org, membership, ["Engineering"])
    return membership


# Each rule kind ----------------------------------------------------------------------


def test_a_role_rule_promotes_the_group(org, admin_user, connection, person, member):
    saml_groups(org, member, ["Sales"])
    rule = group_rule_create(org=org, actor=admin_user, group_name="engineering", role="admin")
    assert fresh(person).role == "admin"
    assert fresh(member).role == "member"
    event = AuditEvent.objects.get(org=org, event=SSOEvents.GROUP_RULE_CREATED)
    assert event.new["group_name"] == "engineering" and event.new["members_changed"] == 1
    assert event.target_id == str(rule.pk)


def test_a_database_admin_rule_grants_and_leaving_the_group_takes_it(org, admin_user, connection, person):
    group_rule_create(org=org, actor=admin_user, group_name="Engineering", database_admin=True)
    person = fresh(person)
    assert person.is_database_admin and person.database_admin_by_rule
    assert AuditEvent.objects.filter(org=org, event=SSOEvents.GROUP_RULE_APPLIED, target_id=str(person.pk)).exists()
    # The member leaves the group at the IdP; the next rule save re-reads the groups.
    saml_groups(org, person, [])
    group_rule_create(org=org, actor=admin_user, group_name="Other", role="member")
    assert not fresh(person).is_database_admin


def test_a_hand_made_grant_stays_when_the_group_is_left(org, admin_user, connection, person, member):
    membership_set_database_admin(org=org, membership=member, value=True, actor=admin_user)
    saml_groups(org, member, [])
    rule = group_rule_create(org=org, actor=admin_user, group_name="Engineering", database_admin=True)
    group_rule_remove(org=org, actor=admin_user, rule_id=rule.pk)
    assert fresh(member).is_database_admin
    assert not fresh(person).is_database_admin  # the rule's grant went with the rule


def test_a_team_rule_adds_and_removes_by_rule_only(org, admin_user, connection, person, member):
    team = team_create(org=org, name="Platform", actor=admin_user)
    team_member_add(org=org, team=team, membership=member, actor=admin_user)  # by hand
    saml_groups(org, member, [])
    rule = group_rule_create(org=org, actor=admin_user, group_name="Engineering", team_id=team.pk)
    row = TeamMember.objects.get(team=team, membership=person)
    assert row.by_rule
    assert not TeamMember.objects.get(team=team, membership=member).by_rule
    other = team_create(org=org, name="Web", actor=admin_user)
    group_rule_update(org=org, actor=admin_user, rule_id=rule.pk, team_id=other.pk)
    assert state(person)[2] == ["Web"]
    group_rule_remove(org=org, actor=admin_user, rule_id=rule.pk)
    assert state(person)[2] == []
    assert state(member)[2] == ["Platform"]  # the hand-made place stays


# Precedence --------------------------------------------------------------------------


def test_admin_beats_member_and_a_grant_from_any_rule_grants(org, admin_user, connection, person):
    saml_groups(org, person, ["Engineering", "Staff", "Oncall"])
    group_rule_create(org=org, actor=admin_user, group_name="Staff", role="member")
    group_rule_create(org=org, actor=admin_user, group_name="Engineering", role="admin")
    group_rule_create(org=org, actor=admin_user, group_name="Oncall", database_admin=True)
    group_rule_create(org=org, actor=admin_user, group_name="Nobody", database_admin=False, role="member")
    assert state(person)[:2] == ("admin", True)


def test_the_last_administrator_is_not_demoted_by_a_rule(org, admin_user, admin_membership, connection):
    saml_groups(org, admin_membership, ["Everyone"])
    preview = group_rules_preview(org=org, rules=proposed_rules(org=org, group_name="Everyone", role="member"))
    assert preview == [{"member": admin_membership.pk, "email": "ada@acme.test", "role": None,
                        "role_kept": ("admin", "member"), "database_admin": None,
                        "teams_added": [], "teams_removed": []}]
    group_rule_create(org=org, actor=admin_user, group_name="Everyone", role="member")
    assert fresh(admin_membership).role == "admin"
    assert AuditEvent.objects.filter(org=org, event=SSOEvents.IDP_ROLE_KEPT).count() == 1


def test_members_whose_groups_are_unknown_are_left_alone(org, admin_user, connection, member):
    membership_set_database_admin(org=org, membership=member, value=True, actor=admin_user)
    Membership.objects.filter(pk=member.pk).update(database_admin_by_rule=True)  # as if a rule had granted it
    group_rule_create(org=org, actor=admin_user, group_name="Engineering", database_admin=True)
    assert fresh(member).is_database_admin  # no identity here: no groups known, nothing decided


def test_a_hand_change_after_a_rule_grant_is_the_administrators(org, admin_user, connection, person):
    group_rule_create(org=org, actor=admin_user, group_name="Engineering", database_admin=True)
    membership_set_database_admin(org=org, membership=person, value=False, actor=admin_user)
    membership_set_database_admin(org=org, membership=person, value=True, actor=admin_user)
    saml_groups(org, person, [])
    group_rule_create(org=org, actor=admin_user, group_name="Other", role="member")
    assert fresh(person).is_database_admin and not fresh(person).database_admin_by_rule


# Directory Sync: SCIM groups, and directory teams stay as they are ---------------------


@pytest.fixture
def directory(org, admin_user, connection):
    enable_sso(org)
    return directory_for(org, admin_user)


def test_under_directory_sync_scim_groups_decide(org, admin_user, directory):
    user_id = provision(directory, "dora@acme.test")
    response = directory.post("Groups", {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
                                         "displayName": "DBAs", "members": [{"value": user_id}]})
    assert response.status_code == 201, response.content
    dora = Membership.objects.get(org=org, user__email="dora@acme.test")
    # A SAML groups attribute is not read while the directory holds the groups.
    saml_groups(org, dora, ["Admins"])
    group_rule_create(org=org, actor=admin_user, group_name="Admins", role="admin")
    group_rule_create(org=org, actor=admin_user, group_name="dbas", database_admin=True)
    assert state(dora)[:2] == ("member", True)


def test_a_rule_naming_a_directory_team_is_refused(org, admin_user, directory):
    team = Team.objects.create(org=org, name="Mirrored", directory_managed=True)
    with pytest.raises(Exception) as refused:
        group_rule_create(org=org, actor=admin_user, group_name="Mirrored", team_id=team.pk)
    assert refused.value.status == 400 and refused.value.code == "directory_team"
    assert "Directory Sync" in refused.value.message
    plain = Team.objects.create(org=org, name="Plain")
    with pytest.raises(Exception) as refused:
        group_rule_create(org=org, actor=admin_user, group_name="Plain", team_id=plain.pk)
    assert refused.value.code == "directory_team" and "stay as the directory sends them" in refused.value.message
    assert not GroupRule.objects.filter(org=org).exists()


# Checks -----------------------------------------------------------------------------------


@pytest.mark.parametrize("values, code", [
    ({"group_name": "", "role": "admin"}, "invalid_group_name"),
    ({"group_name": "x" * 256, "role": "admin"}, "invalid_group_name"),
    ({"group_name": "G", "role": "owner"}, "invalid_role"),
    ({"group_name": "G"}, "no_effect"),
    ({"group_name": "G", "team_id": 999999}, "invalid_team"),
])
def test_bad_rules_are_refused(org, admin_user, connection, values, code):
    with pytest.raises(Exception) as refused:
        group_rule_create(org=org, actor=admin_user, **values)
    assert (refused.value.status, refused.value.code) == (400, code)


def test_group_names_are_unique_without_regard_to_case(org, admin_user, connection):
    group_rule_create(org=org, actor=admin_user, group_name="Engineering", role="admin")
    with pytest.raises(Exception) as refused:
        group_rule_create(org=org, actor=admin_user, group_name="ENGINEERING", role="member")
    assert (refused.value.status, refused.value.code) == (409, "group_rule_exists")


def test_rules_need_sso_configured(org, admin_user):
    with pytest.raises(Exception) as refused:
        group_rule_create(org=org, actor=admin_user, group_name="G", role="admin")
    assert (refused.value.status, refused.value.code) == (409, "sso_not_configured")


def test_a_team_of_another_organization_is_refused(org, admin_user, connection, other_org, outsider):
    theirs = team_create(org=other_org, name="Theirs", actor=outsider)
    with pytest.raises(Exception) as refused:
        group_rule_create(org=org, actor=admin_user, group_name="G", team_id=theirs.pk)
    assert refused.value.code == "invalid_team"


# The preview is what saving applies -------------------------------------------------------


def _world(org, admin_user, count=6):
    """Members in assorted groups, with hand-made and rule-made grants and teams."""
    platform = team_create(org=org, name="Platform", actor=admin_user)
    web = team_create(org=org, name="Web", actor=admin_user)
    memberships = []
    for i in range(count):
        membership = membership_add(org=org, user=make_user(f"p{i}@acme.test"), role=Membership.Role.MEMBER,
                                    actor=None)
        saml_groups(org, membership, [["Eng"], ["Eng", "DBA"], ["Ops"], [], ["dba"], ["Ops", "Eng"]][i % 6])
        memberships.append(membership)
    membership_set_database_admin(org=org, membership=memberships[2], value=True, actor=admin_user)
    team_member_add(org=org, team=web, membership=memberships[0], actor=admin_user)
    return memberships, platform, web


def _snapshot(org):
    members = {m.pk: (m.user.email, m.role, m.is_database_admin)
               for m in Membership.objects.filter(org=org).select_related("user")}
    teams = {}
    for membership_id, name in TeamMember.objects.filter(org=org).values_list("membership_id", "team__name"):
        teams.setdefault(membership_id, set()).add(name)
    return members, teams


def _diff(before, after):
    rows = []
    (members_before, teams_before), (members_after, teams_after) = before, after
    for pk, (email, role, dba) in sorted(members_after.items()):
        _, old_role, old_dba = members_before[pk]
        old_teams, new_teams = teams_before.get(pk, set()), teams_after.get(pk, set())
        row = {"member": pk, "email": email, "role": (old_role, role) if role != old_role else None,
               "database_admin": (old_dba, dba) if dba != old_dba else None,
               "teams_added": sorted(new_teams - old_teams), "teams_removed": sorted(old_teams - new_teams)}
        if row["role"] or row["database_admin"] or row["teams_added"] or row["teams_removed"]:
            rows.append(row)
    return rows


def _comparable(preview):
    return [{**{k: v for k, v in row.items() if k != "role_kept"},
             "teams_added": sorted(row["teams_added"]), "teams_removed": sorted(row["teams_removed"])}
            for row in preview]


def test_preview_equals_what_saving_applies(org, admin_user, connection, settings):
    import sso.group_rules

    sso.group_rules.BATCH_SIZE = 4  # several batches
    try:
        memberships, platform, web = _world(org, admin_user, count=12)
        steps = [
            ("create", {"group_name": "Eng", "role": "admin", "team_id": platform.pk}),
            ("create", {"group_name": "DBA", "database_admin": True}),
            ("create", {"group_name": "Ops", "role": "member", "team_id": web.pk}),
            ("update", {"group_name": "Eng", "role": "", "database_admin": True, "team_id": web.pk}),
            ("remove", {"group_name": "DBA"}),
            ("update", {"group_name": "Ops", "team_id": None, "role": "admin"}),
            ("remove", {"group_name": "Eng"}),
        ]
        for action, values in steps:
            rule = GroupRule.objects.filter(org=org, group_name__iexact=values["group_name"]).first()
            if action == "create":
                rules = proposed_rules(org=org, **values)
            elif action == "update":
                rules = proposed_rules(org=org, rule_id=rule.pk, **values)
            else:
                rules = proposed_rules(org=org, rule_id=rule.pk, remove=True)
            assert not GroupRule.objects.filter(org=org, pk__isnull=True).exists()
            before = _snapshot(org)
            preview = group_rules_preview(org=org, rules=rules)
            assert _snapshot(org) == before, "the preview writes nothing"
            if action == "create":
                group_rule_create(org=org, actor=admin_user, **values)
            elif action == "update":
                group_rule_update(org=org, actor=admin_user, rule_id=rule.pk, **values)
            else:
                group_rule_remove(org=org, actor=admin_user, rule_id=rule.pk)
            assert _comparable(preview) == _diff(before, _snapshot(org)), (action, values)
            assert preview or action == "remove"
    finally:
        sso.group_rules.BATCH_SIZE = 500


def test_saving_reads_the_members_in_a_constant_number_of_queries(org, admin_user, connection,
                                                                   django_assert_max_num_queries):
    from django.db import connection as db
    from django.test.utils import CaptureQueriesContext

    def cost(count):
        GroupRule.objects.filter(org=org).delete()
        Membership.objects.filter(org=org).exclude(user=admin_user).delete()
        for i in range(count):
            membership = membership_add(org=org, user=make_user(f"q{count}-{i}@acme.test"),
                                        role=Membership.Role.MEMBER, actor=None)
            saml_groups(org, membership, ["Nobody"])
        with CaptureQueriesContext(db) as queries:
            group_rule_create(org=org, actor=admin_user, group_name="Eng", role="admin")
        return len(queries.captured_queries)

    assert cost(3) == cost(30)


# The dashboard page --------------------------------------------------------------------


def test_page_add_preview_then_save(admin_client, org, connection, person):
    platform = team_create(org=org, name="Platform", actor=org.memberships.get(role="admin").user)
    page = admin_client.get(PAGE)
    assert page.status_code == 200 and "No group rules." in page.content.decode()
    assert PAGE in admin_client.get("/orgs/acme/settings/authentication/").content.decode()
    values = {"group_name": "Engineering", "role": "admin", "database_admin": "1", "team": str(platform.pk)}
    preview = admin_client.post(PAGE + "add/preview/", values)
    body = preview.content.decode()
    assert preview.status_code == 200, body
    assert 'data-preview-member="erin@acme.test"' in body and "+ Platform" in body and "granted" in body
    assert f'action="{PAGE}add/"' in body
    assert not GroupRule.objects.filter(org=org).exists() and fresh(person).role == "member"
    saved = admin_client.post(PAGE + "add/", values)
    assert saved.status_code == 302 and saved["Location"] == PAGE
    assert state(person) == ("admin", True, ["Platform"])
    assert 'data-rule="Engineering"' in admin_client.get(PAGE).content.decode()


def test_page_edit_and_remove_are_previewed(admin_client, org, admin_user, connection, person):
    rule = group_rule_create(org=org, actor=admin_user, group_name="Engineering", database_admin=True)
    url = f"{PAGE}{rule.pk}/"
    assert admin_client.get(url).status_code == 200
    preview = admin_client.post(url + "edit/preview/", {"group_name": "Engineering", "role": "admin"})
    assert "taken away" in preview.content.decode() and "member → <strong>admin</strong>" in preview.content.decode()
    assert admin_client.post(url + "edit/", {"group_name": "Engineering", "role": "admin"}).status_code == 302
    assert state(person)[:2] == ("admin", False)
    preview = admin_client.post(url + "remove/preview/")
    assert preview.status_code == 200 and f'action="{url}remove/"' in preview.content.decode()
    assert GroupRule.objects.filter(pk=rule.pk).exists()
    assert admin_client.post(url + "remove/").status_code == 302
    assert not GroupRule.objects.filter(pk=rule.pk).exists()


def test_page_refusals_are_shown_and_change_nothing(admin_client, org, admin_user, connection):
    group_rule_create(org=org, actor=admin_user, group_name="Engineering", role="admin")
    before = AuditEvent.objects.count()
    response = admin_client.post(PAGE + "add/", {"group_name": "engineering", "role": "member"})
    assert response.status_code == 409 and "already exists" in response.content.decode()
    response = admin_client.post(PAGE + "add/preview/", {"group_name": "G"})
    assert response.status_code == 400 and "must do something" in response.content.decode()
    response = admin_client.post(PAGE + "add/preview/", {"group_name": "G", "role": "owner"})
    assert response.status_code == 400
    response = admin_client.post(PAGE + "add/", {"group_name": "G", "team": "99999999999999999999"})
    assert response.status_code == 400
    assert AuditEvent.objects.count() == before and GroupRule.objects.filter(org=org).count() == 1


def test_page_access(admin_client, member_client, outsider_client, org, admin_user, member, connection, other_org):
    rule = group_rule_create(org=org, actor=admin_user, group_name="Engineering", role="admin")
    for url in (PAGE, f"{PAGE}{rule.pk}/"):
        assert member_client.get(url).status_code == 200
        assert outsider_client.get(url).status_code == 404
    body = member_client.get(f"{PAGE}{rule.pk}/").content.decode()
    assert "Change the rule" not in body and "Remove…" not in body
    assert member_client.get(f"{PAGE}999999/").status_code == 404
    for url, data in ((PAGE + "add/preview/", {"group_name": "X", "role": "admin"}),
                      (PAGE + "add/", {"group_name": "X", "role": "admin"}),
                      (f"{PAGE}{rule.pk}/edit/preview/", {"group_name": "X", "role": "admin"}),
                      (f"{PAGE}{rule.pk}/edit/", {"group_name": "X", "role": "admin"}),
                      (f"{PAGE}{rule.pk}/remove/preview/", {}),
                      (f"{PAGE}{rule.pk}/remove/", {})):
        assert member_client.post(url, data).status_code == 403
        assert outsider_client.post(url, data).status_code == 404
    assert list(GroupRule.objects.filter(org=org).values_list("group_name", flat=True)) == ["Engineering"]


@pytest.mark.parametrize("path, data", [
    ("add/preview/", {"group_name": "X", "role": "admin"}),
    ("{rule}/edit/preview/", {"group_name": "X", "role": "member"}),
    ("{rule}/remove/preview/", {}),
])
def test_previews_need_the_csrf_token(org, admin_user, connection, path, data):
    from django.test import Client

    rule = group_rule_create(org=org, actor=admin_user, group_name="Engineering", role="admin")
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin_user, backend="accounts.backends.EmailBackend")
    url = PAGE + path.format(rule=rule.pk)
    assert client.post(url, data).status_code == 403
    client.get(PAGE)
    response = client.post(url, {**data, "csrfmiddlewaretoken": client.cookies["csrftoken"].value})
    assert response.status_code == 200 and 'data-testid="group-rule-preview"' in response.content.decode()


# The API -------------------------------------------------------------------------------


def test_api_create_read_change_remove(admin_client, member_client, org, connection, person, member):
    created = admin_client.post(API, {"group_name": "Engineering", "role": "admin"}, content_type="application/json")
    assert created.status_code == 201, created.json()
    rule = created.json()
    assert rule["group_name"] == "Engineering" and rule["role"] == "admin" and rule["team_id"] is None
    assert fresh(person).role == "admin"
    for client in (admin_client, member_client):
        assert client.get(API).json()["results"][0]["id"] == rule["id"]
        assert client.get(f"{API}/{rule['id']}").json()["group_name"] == "Engineering"
    changed = admin_client.patch(f"{API}/{rule['id']}", {"database_admin": True}, content_type="application/json")
    assert changed.status_code == 200 and changed.json()["database_admin"] and changed.json()["role"] == "admin"
    assert fresh(person).is_database_admin
    assert admin_client.delete(f"{API}/{rule['id']}").status_code == 204
    # What the rule gave goes with it: the grant and the administrator role (Membership.role_by_rule).
    assert not fresh(person).is_database_admin and fresh(person).role == "member"
    assert admin_client.get(f"{API}/{rule['id']}").status_code == 404


def test_api_preview_matches_what_saving_applies(admin_client, org, admin_user, connection, person):
    team = team_create(org=org, name="Platform", actor=admin_user)
    body = {"group_name": "engineering", "role": "admin", "database_admin": True, "team_id": team.pk}
    preview = admin_client.post(API + "/preview", body, content_type="application/json")
    assert preview.status_code == 200, preview.json()
    assert preview.json() == {"changes": [{
        "member": person.pk, "email": "erin@acme.test", "role": ["member", "admin"], "role_kept": None,
        "database_admin": [False, True], "teams_added": ["Platform"], "teams_removed": []}]}
    assert not GroupRule.objects.filter(org=org).exists()
    rule_id = admin_client.post(API, body, content_type="application/json").json()["id"]
    assert state(person) == ("admin", True, ["Platform"])
    removal = admin_client.post(API + "/preview", {"rule_id": rule_id, "remove": True},
                                content_type="application/json").json()["changes"]
    assert removal == [{"member": person.pk, "email": "erin@acme.test", "role": ["admin", "member"], "role_kept": None,
                        "database_admin": [True, False], "teams_added": [], "teams_removed": ["Platform"]}]
    change = admin_client.post(API + "/preview", {"rule_id": rule_id, "team_id": None},
                               content_type="application/json").json()["changes"]
    assert change == [{**removal[0], "role": None, "database_admin": None}]


@pytest.mark.parametrize("body, status, code", [
    ({"group_name": "G"}, 400, "no_effect"),
    ({"group_name": "", "role": "admin"}, 400, None),
    ({"group_name": "G", "role": "owner"}, 400, None),
    ({"group_name": "G", "role": "admin", "bogus": 1}, 400, "unknown_field"),
    ({"group_name": "G", "team_id": 12345678}, 400, "invalid_team"),
    ({"group_name": "engineering", "role": "member"}, 409, "group_rule_exists"),
])
def test_api_refusals_change_nothing(admin_client, org, admin_user, connection, body, status, code):
    group_rule_create(org=org, actor=admin_user, group_name="Engineering", role="admin")
    before = (list(GroupRule.objects.values_list()), AuditEvent.objects.count())
    for url in (API, API + "/preview"):
        response = admin_client.post(url, body, content_type="application/json")
        assert response.status_code == status, response.json()
        assert "message" in response.json()
        if code:
            assert response.json()["code"] == code
    assert (list(GroupRule.objects.values_list()), AuditEvent.objects.count()) == before


def test_api_access(admin_client, member_client, outsider_client, org, admin_user, connection, other_org, member):
    rule = group_rule_create(org=org, actor=admin_user, group_name="Engineering", role="admin")
    body = {"group_name": "X", "role": "admin"}
    assert member_client.post(API, body, content_type="application/json").status_code == 403
    assert member_client.post(API + "/preview", body, content_type="application/json").status_code == 403
    assert member_client.patch(f"{API}/{rule.pk}", body, content_type="application/json").status_code == 403
    assert member_client.delete(f"{API}/{rule.pk}").status_code == 403
    for request in (lambda c: c.get(API), lambda c: c.get(f"{API}/{rule.pk}"),
                    lambda c: c.post(API, body, content_type="application/json"),
                    lambda c: c.post(API + "/preview", body, content_type="application/json"),
                    lambda c: c.patch(f"{API}/{rule.pk}", body, content_type="application/json"),
                    lambda c: c.delete(f"{API}/{rule.pk}")):
        assert request(outsider_client).status_code == 404
    # The other organization's own rule is not reachable through acme's URL, nor acme's through theirs.
    assert outsider_client.get(f"/api/v1/organizations/other/sso/group-rules/{rule.pk}").status_code == 404
    assert list(GroupRule.objects.values_list("group_name", "role")) == [("Engineering", "admin")]


def test_api_needs_sso_configured(admin_client, org):
    response = admin_client.post(API, {"group_name": "G", "role": "admin"}, content_type="application/json")
    assert (response.status_code, response.json()["code"]) == (409, "sso_not_configured")
    response = admin_client.post(API + "/preview", {"group_name": "G", "role": "admin"},
                                 content_type="application/json")
    assert (response.status_code, response.json()["code"]) == (409, "sso_not_configured")
