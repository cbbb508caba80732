"""Group rules on SCIM group changes (issue 12): whoever a group's change touches gets
apply_decision(decide(rules, their groups, their directory role)) in the same
transaction; leaving the group takes a rule's grant away, never a hand-made one; a PATCH
of many members stays set-based; the set-based path writes what apply_decision writes."""
import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from orgs.models import AuditEvent, Membership
from scim import idp
from scim.models import DirectoryUser
from sso.identity import apply_decision, decide, rule_team_ids, rules_of
from sso.models import GroupRule
from teams.models import Team, TeamMember

from .conftest import patch_body, set_role_management, user_body

pytestmark = pytest.mark.django_db


def make_users(scim, n, prefix="u"):
    ids = []
    for i in range(n):
        response = scim.post("Users", user_body(f"{prefix}{i}@acme.test"))
        assert response.status_code == 201, response.content
        ids.append(response.json()["id"])
    return ids


def make_group(scim, name, members=()):
    response = scim.post("Groups", {"displayName": name, "members": [{"value": m} for m in members]})
    assert response.status_code == 201, response.content
    return response.json()["id"]


def membership(user_id) -> Membership:
    return Membership.objects.get(pk=DirectoryUser.objects.get(pk=user_id).membership_id)


def add(scim, group_id, ids):
    return scim.patch(f"Groups/{group_id}", patch_body({"op": "add", "path": "members",
                                                        "value": [{"value": i} for i in ids]}))


def remove(scim, group_id, user_id):
    return scim.patch(f"Groups/{group_id}", patch_body({"op": "remove", "path": f'members[value eq "{user_id}"]'}))


def test_dba_rule_grants_on_add_and_takes_away_on_removal_but_not_a_hand_made_grant(scim, org):
    GroupRule.objects.create(org=org, group_name="dbas", database_admin=True)
    a, b = make_users(scim, 2)
    group_id = make_group(scim, "DBAs", [a])  # POST: matched without regard to case
    assert membership(a).is_database_admin and membership(a).database_admin_by_rule
    assert add(scim, group_id, [b]).status_code == 204
    assert membership(b).is_database_admin
    events = AuditEvent.objects.filter(org=org, event="sso.group_rule_applied", actor_label="directory")
    assert events.count() == 2 and events.first().new == {"database_admin": True, "groups": ["dbas"]}
    remove(scim, group_id, a)
    assert not membership(a).is_database_admin
    # A grant made by hand stays when the member leaves the group.
    Membership.objects.filter(pk=membership(b).pk).update(database_admin_by_rule=False)
    remove(scim, group_id, b)
    assert membership(b).is_database_admin


def test_role_and_team_rules_and_precedence(scim, org):
    team = Team.objects.create(org=org, name="On call")
    GroupRule.objects.create(org=org, group_name="Admins", role="admin")
    GroupRule.objects.create(org=org, group_name="Staff", role="member", team=team)
    (a,) = make_users(scim, 1)
    staff = make_group(scim, "Staff", [a])
    assert membership(a).role == "member"
    assert TeamMember.objects.get(team=team, membership=membership(a)).by_rule
    admins = make_group(scim, "Admins", [a])
    assert membership(a).role == "admin"  # admin beats member
    remove(scim, staff, a)
    assert not TeamMember.objects.filter(team=team).exists()
    assert membership(a).role == "admin"
    scim.delete(f"Groups/{admins}")
    assert membership(a).role == "member"  # the role the Admins rule gave went with the group


def test_rename_and_delete_apply_the_rules(scim, org):
    GroupRule.objects.create(org=org, group_name="Database admins", database_admin=True)
    a, b = make_users(scim, 2)
    group_id = make_group(scim, "Engineering", [a, b])
    assert not membership(a).is_database_admin
    scim.patch(f"Groups/{group_id}", patch_body({"op": "replace", "path": "displayName", "value": "Database admins"}))
    assert membership(a).is_database_admin and membership(b).is_database_admin
    body = {"displayName": "Database admins", "members": [{"value": a}]}  # PUT drops b
    assert scim.put(f"Groups/{group_id}", body).status_code == 200
    assert membership(a).is_database_admin and not membership(b).is_database_admin
    scim.delete(f"Groups/{group_id}")
    assert not membership(a).is_database_admin


def test_a_reactivated_user_gets_the_rules_of_their_groups(scim, org):
    GroupRule.objects.create(org=org, group_name="DBAs", database_admin=True)
    (a,) = make_users(scim, 1)
    make_group(scim, "DBAs", [a])
    scim.patch(f"Users/{a}", patch_body({"op": "replace", "path": "active", "value": False}))
    assert DirectoryUser.objects.get(pk=a).membership_id is None  # the grant went with the membership (E5)
    scim.patch(f"Users/{a}", patch_body({"op": "replace", "path": "active", "value": True}))
    assert membership(a).is_database_admin


def test_patch_of_many_members_with_a_dba_rule_is_set_based(scim, org):
    GroupRule.objects.create(org=org, group_name="DBAs", database_admin=True)
    ids = make_users(scim, 266)
    group_id = make_group(scim, "DBAs")
    with CaptureQueriesContext(connection) as few:
        assert add(scim, group_id, ids[:10]).status_code == 204
    with CaptureQueriesContext(connection) as many:
        assert add(scim, group_id, ids[10:]).status_code == 204

    def statements(captured):
        # Django splits one bulk INSERT at SQLite's 999 parameters (PostgreSQL: one
        # statement): the INSERTs into one table count as one.
        sql = [q["sql"] for q in captured.captured_queries]
        inserts = [q for q in sql if q.startswith("INSERT ")]
        tables = {q.split(" INTO ", 1)[1].split()[0] for q in inserts}
        return len(sql) - len(inserts) + len(tables), len(inserts)

    assert statements(many)[0] == statements(few)[0]
    if connection.vendor == "postgresql":
        assert len(many.captured_queries) == len(few.captured_queries)
    assert Membership.objects.filter(org=org, is_database_admin=True, database_admin_by_rule=True).count() == 266
    assert AuditEvent.objects.filter(org=org, event="sso.group_rule_applied").count() == 266


def _written(org):
    memberships = sorted(Membership.objects.filter(org=org).values_list(
        "pk", "role", "is_database_admin", "database_admin_by_rule"))
    team_members = sorted(TeamMember.objects.filter(org=org).values_list("team_id", "membership_id", "by_rule"))
    audit = list(AuditEvent.objects.filter(org=org).order_by("pk").values_list(
        "event", "actor_label", "target_type", "target_id", "target_label", "old", "new"))
    return memberships, team_members, audit


def test_the_set_based_path_writes_what_apply_decision_writes(scim, org, admin_user):
    """The specification is sso.identity.apply_decision, member after member in
    membership order; both run on the same world, each rolled back after."""
    team = Team.objects.create(org=org, name="Rule team")
    GroupRule.objects.create(org=org, group_name="DBAs", database_admin=True)
    GroupRule.objects.create(org=org, group_name="Ops", team=team)
    GroupRule.objects.create(org=org, group_name="Leads", role="admin")
    set_role_management(org)
    ids = make_users(scim, 6)
    make_group(scim, "DBAs", ids[1:4])
    make_group(scim, "Ops", ids[3:5])
    leads = make_group(scim, "Leads")
    # Two administrators from the directory whose stored role now says member, and the
    # organization's own administrator demoted: the guard keeps the last of them.
    for user_id in ids[:2]:
        scim.patch(f"Users/{user_id}", patch_body({"op": "replace", "path": "planetscale_role", "value": "admin"}))
        DirectoryUser.objects.filter(pk=user_id).update(role="member")
    Membership.objects.filter(org=org, user=admin_user).update(role="member")
    from scim.models import DirectoryGroupMember

    # Joins Leads (admin) without the rules running yet: promoted in the runs below.
    DirectoryGroupMember.objects.create(org=org, group_id=leads, directory_user_id=ids[4])
    # A hand-made grant and a rule team membership whose group is gone.
    Membership.objects.filter(pk=membership(ids[5]).pk).update(is_database_admin=True)
    TeamMember.objects.create(org=org, team=team, membership=membership(ids[0]), by_rule=True)
    Membership.objects.filter(pk=membership(ids[2]).pk).update(is_database_admin=True, database_admin_by_rule=True)
    DirectoryUser.objects.filter(pk=ids[2]).update(active=True)
    DirectoryGroupMember.objects.filter(directory_user_id=ids[2]).delete()  # left DBAs: the grant should go
    rules, before = rules_of(org), AuditEvent.objects.order_by("-pk").first().pk

    def run(apply):
        with transaction.atomic():
            apply()
            result = _written(org)
            result = (result[0], result[1], [row for row, pk in zip(result[2], AuditEvent.objects.filter(
                org=org).order_by("pk").values_list("pk", flat=True)) if pk > before])
            transaction.set_rollback(True)
        return result

    def set_based():
        idp.apply_rules_to_members(org, ids)

    def one_by_one():
        names = idp.group_names(ids)
        for directory_user in DirectoryUser.objects.filter(pk__in=ids).order_by("membership_id"):
            member = Membership.objects.select_related("user").get(pk=directory_user.membership_id)
            apply_decision(org=org, membership=member, rule_teams=rule_team_ids(rules), actor_label="directory",
                           decision=decide(rules=rules, groups=names.get(directory_user.pk, []),
                                           role=directory_user.role or None))

    fast, spec = run(set_based), run(one_by_one)
    assert fast[0] == spec[0]
    assert fast[1] == spec[1]
    assert fast[2] == spec[2]
    assert fast == spec
    events = {row[0] for row in fast[2]}
    assert {"member.role_changed", "sso.idp_role_kept", "sso.group_rule_applied"} <= events
