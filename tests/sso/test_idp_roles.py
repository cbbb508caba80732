"""DS4 and group rules over SAML (issue 12 items 1 and 3): the role the assertion names
and the groups it lists, through signed responses from the independent test IdP."""
import pytest
from django.db import connection as db
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts.models import User
from orgs.audit import Events
from orgs.models import AuditEvent, Membership
from orgs.services import membership_change_role
from sso.events import SSOEvents
from sso.models import ENTRA_GROUPS_CLAIM, ENTRA_ROLES_CLAIM, GroupRule, SSOIdentity
from sso.services import sso_login, sso_set_role_management
from teams.models import Team, TeamMember

from .conftest import assert_rejected, post_acs, start_login

pytestmark = pytest.mark.django_db


def sign_in(idp, email, extra=None, *, name_id=None):
    """A fresh browser through the SP-initiated flow; returns (client, response)."""
    client = Client()
    request_id, relay = start_login(client)
    attributes = {"email": email, "firstName": "Test", "lastName": "User", **(extra or {})}
    return client, post_acs(client, idp.encoded(org_slug="acme", name_id=name_id or email, in_response_to=request_id,
                                                attributes=attributes), relay)


def role_of(org, email):
    return Membership.objects.get(org=org, user__email=email).role


@pytest.fixture
def roles_on(org, admin_user, enabled):
    sso_set_role_management(org=org, actor=admin_user, value=True)
    enabled.refresh_from_db()
    return enabled


def test_switch_off_the_role_attribute_is_not_read(org, enabled, idp):
    client, response = sign_in(idp, "new@acme.test", {"planetscale_role": "admin"})
    assert response.status_code == 302
    assert role_of(org, "new@acme.test") == "member"


def test_switch_on_a_new_member_joins_with_the_idps_role(org, roles_on, idp):
    client, response = sign_in(idp, "boss@acme.test", {"planetscale_role": "admin"})
    assert response.status_code == 302 and "_auth_user_id" in client.session
    assert role_of(org, "boss@acme.test") == "admin"
    changed = AuditEvent.objects.get(org=org, event=Events.MEMBER_ROLE_CHANGED, target_label="boss@acme.test")
    assert changed.actor_id is None and changed.actor_label == "identity provider"
    assert (changed.old, changed.new) == ({"role": "member"}, {"role": "admin"})
    login = AuditEvent.objects.filter(org=org, event=SSOEvents.LOGIN, target_label="boss@acme.test").get()
    assert login.new["role"] == "admin"


def test_renamed_attribute_and_values_without_case(org, admin_user, roles_on, idp):
    sso_set_role_management(org=org, actor=admin_user, role_attribute="gh_role")
    sign_in(idp, "a@acme.test", {"planetscale_role": "admin"})  # the old name is not read
    assert role_of(org, "a@acme.test") == "member"
    sign_in(idp, "b@acme.test", {"gh_role": " ADMIN "})
    assert role_of(org, "b@acme.test") == "admin"
    sign_in(idp, "b@acme.test", {"GH_ROLE": "Member"})  # the attribute's name without case too
    assert role_of(org, "b@acme.test") == "member"


@pytest.mark.parametrize("claim", [ENTRA_ROLES_CLAIM, "roles"])
def test_entra_app_roles_claim(org, roles_on, idp, claim):
    sign_in(idp, "entra@acme.test", {claim: ["Admin"]})
    assert role_of(org, "entra@acme.test") == "admin"


def test_admin_beats_member_when_both_are_sent(org, roles_on, idp):
    sign_in(idp, "both@acme.test", {"planetscale_role": ["member", "admin"]})
    assert role_of(org, "both@acme.test") == "admin"


def test_unknown_value_is_refused_naming_attribute_and_value_and_nothing_is_written(
        org, roles_on, idp, member, member_user):
    users, memberships = User.objects.count(), Membership.objects.count()
    client, response = sign_in(idp, "newcomer@acme.test", {"planetscale_role": "superuser"})
    page = response.content.decode()
    assert response.status_code == 400
    assert "planetscale_role" in page and "superuser" in page
    event = assert_rejected(client, response, org, "unknown_role")
    assert (event.new["attribute"], event.new["value"]) == ("planetscale_role", "superuser")
    assert (User.objects.count(), Membership.objects.count()) == (users, memberships)
    # A returning member too: no role change, no sign-in time, nothing of the assertion kept.
    sign_in(idp, member_user.email, {"planetscale_role": "member"})
    identity = SSOIdentity.objects.get(user=member_user)
    before = (identity.last_sso_login_at, identity.idp_attributes)
    logins = AuditEvent.objects.filter(org=org, event=SSOEvents.LOGIN).count()
    client, response = sign_in(idp, member_user.email, {"planetscale_role": "owner"})
    assert response.status_code == 400 and "owner" in response.content.decode()
    identity.refresh_from_db()
    assert (identity.last_sso_login_at, identity.idp_attributes) == before
    assert AuditEvent.objects.filter(org=org, event=SSOEvents.LOGIN).count() == logins
    assert role_of(org, member_user.email) == "member"


def test_the_last_administrator_is_not_demoted_by_the_idp(org, roles_on, idp, admin_user):
    client, response = sign_in(idp, admin_user.email, {"planetscale_role": "member"})
    assert response.status_code == 302 and "_auth_user_id" in client.session
    assert role_of(org, admin_user.email) == "admin"
    kept = AuditEvent.objects.get(org=org, event=SSOEvents.IDP_ROLE_KEPT)
    assert kept.old == {"role": "admin"} and kept.new["role"] == "member" and kept.new["reason"] == "last_admin"
    # With another administrator, the IdP's word holds.
    sign_in(idp, "second@acme.test", {"planetscale_role": "admin"})
    sign_in(idp, admin_user.email, {"planetscale_role": "member"})
    assert role_of(org, admin_user.email) == "member"


def test_a_hand_made_change_is_undone_at_the_next_sign_in(org, roles_on, idp, admin_user):
    sign_in(idp, "lead@acme.test", {"planetscale_role": "admin"})
    membership = Membership.objects.get(org=org, user__email="lead@acme.test")
    membership_change_role(org=org, membership=membership, role="member", actor=admin_user)
    assert role_of(org, "lead@acme.test") == "member"
    sign_in(idp, "lead@acme.test", {"planetscale_role": "admin"})
    assert role_of(org, "lead@acme.test") == "admin"
    changes = list(AuditEvent.objects.filter(org=org, event=Events.MEMBER_ROLE_CHANGED,
                                             target_label="lead@acme.test").order_by("pk"))
    assert [(event.actor_label, event.new["role"]) for event in changes] == [
        ("identity provider", "admin"), (admin_user.email, "member"), ("identity provider", "admin")]


def test_no_role_attribute_changes_nothing(org, roles_on, idp, admin_user):
    sign_in(idp, "quiet@acme.test", {"planetscale_role": "admin"})
    sign_in(idp, "quiet@acme.test")
    assert role_of(org, "quiet@acme.test") == "admin"


# Group rules over SAML -------------------------------------------------------------


@pytest.fixture
def rules(org):
    team = Team.objects.create(org=org, name="Backend")
    return {
        "dbas": GroupRule.objects.create(org=org, group_name="DBAs", database_admin=True),
        "admins": GroupRule.objects.create(org=org, group_name="Admins", role="admin"),
        "backend": GroupRule.objects.create(org=org, group_name="Backend", team=team),
        "team": team,
    }


def test_group_rules_apply_at_sign_in_without_directory_sync(org, enabled, idp, rules):
    sign_in(idp, "grace@acme.test", {"groups": ["dbas", "Backend", "Unrelated"]})
    membership = Membership.objects.get(org=org, user__email="grace@acme.test")
    assert membership.role == "member"  # the switch is off: the role attribute is not read, no role rule matched
    assert membership.is_database_admin and membership.database_admin_by_rule
    assert TeamMember.objects.filter(team=rules["team"], membership=membership, by_rule=True).exists()
    identity = SSOIdentity.objects.get(user__email="grace@acme.test")
    assert identity.idp_groups == ["dbas", "Backend", "Unrelated"]
    applied = AuditEvent.objects.filter(org=org, event=SSOEvents.GROUP_RULE_APPLIED, target_label="grace@acme.test")
    assert applied.count() == 2  # the grant, the team
    # A rule role applies whatever the switch (the rule is the administrator's own word).
    sign_in(idp, "grace@acme.test", {"groups": ["dbas", "Backend", "Admins"]})
    assert role_of(org, "grace@acme.test") == "admin"
    # Out of the groups: the grant, the team and the administrator role a rule gave are taken away.
    sign_in(idp, "grace@acme.test", {"groups": []})
    membership.refresh_from_db()
    assert not membership.is_database_admin and membership.role == "member"
    assert not TeamMember.objects.filter(team=rules["team"], membership=membership).exists()


def test_entra_groups_claim_and_a_renamed_groups_attribute(org, admin_user, enabled, idp, rules):
    sign_in(idp, "e1@acme.test", {ENTRA_GROUPS_CLAIM: ["DBAs"]})
    assert Membership.objects.get(org=org, user__email="e1@acme.test").is_database_admin
    sso_set_role_management(org=org, actor=admin_user, groups_attribute="memberOf")
    sign_in(idp, "e2@acme.test", {"memberOf": ["DBAs"], "groups": ["Admins"]})
    membership = Membership.objects.get(org=org, user__email="e2@acme.test")
    assert membership.is_database_admin and membership.role == "member"


def test_role_attribute_and_rules_together_admin_beats_member(org, roles_on, idp, rules):
    sign_in(idp, "mix@acme.test", {"planetscale_role": "member", "groups": ["Admins"]})
    assert role_of(org, "mix@acme.test") == "admin"


def test_a_grant_made_by_hand_is_not_taken_by_the_rules(org, enabled, idp, rules, admin_user):
    from orgs.services import membership_set_database_admin

    sign_in(idp, "hand@acme.test")
    membership = Membership.objects.get(org=org, user__email="hand@acme.test")
    membership_set_database_admin(org=org, membership=membership, value=True, actor=admin_user)
    sign_in(idp, "hand@acme.test", {"groups": ["Nothing"]})
    assert Membership.objects.get(pk=membership.pk).is_database_admin


def test_an_administrator_made_by_hand_or_by_the_role_attribute_is_not_demoted_by_the_rules(
        org, roles_on, idp, rules, admin_user):
    from orgs.services import membership_change_role

    sign_in(idp, "hand@acme.test")
    membership = Membership.objects.get(org=org, user__email="hand@acme.test")
    membership_change_role(org=org, membership=membership, role="admin", actor=admin_user)
    sign_in(idp, "hand@acme.test", {"groups": ["Nothing"]})
    assert role_of(org, "hand@acme.test") == "admin"  # a hand-made role: no rule gave it, no rule takes it
    sign_in(idp, "attr@acme.test", {"planetscale_role": "admin"})
    sign_in(idp, "attr@acme.test", {"groups": ["Nothing"]})
    assert role_of(org, "attr@acme.test") == "admin"  # the attribute said nothing this time: no word on it
    # A rule-made administrator made administrator again by hand is the administrator's from then on.
    sign_in(idp, "ruled@acme.test", {"groups": ["Admins"]})
    ruled = Membership.objects.get(org=org, user__email="ruled@acme.test")
    assert ruled.role_by_rule
    membership_change_role(org=org, membership=ruled, role="member", actor=admin_user)
    membership_change_role(org=org, membership=ruled, role="admin", actor=admin_user)
    sign_in(idp, "ruled@acme.test", {"groups": []})
    assert role_of(org, "ruled@acme.test") == "admin"


def test_group_rules_do_not_read_saml_groups_with_directory_sync_on(org, enabled, idp, rules, admin_user):
    from scim.services import directory_enable

    directory_enable(org=org, actor=admin_user)
    GroupRule.objects.create(org=org, group_name="DBAs2", database_admin=True)
    client, response = sign_in(idp, admin_user.email, {"groups": ["DBAs", "DBAs2", "Admins"]})
    assert response.status_code == 302
    membership = Membership.objects.get(org=org, user=admin_user)
    assert not membership.is_database_admin
    assert not AuditEvent.objects.filter(org=org, event=SSOEvents.GROUP_RULE_APPLIED).exists()
    # …but the SAML groups are kept, for the member's page.
    assert SSOIdentity.objects.get(user=admin_user).idp_groups == ["DBAs", "DBAs2", "Admins"]
    # A returning sign-in too (its read brings the rules; Directory Sync's state decides).
    sign_in(idp, admin_user.email, {"groups": ["DBAs"]})
    assert not Membership.objects.get(org=org, user=admin_user).is_database_admin
    assert not AuditEvent.objects.filter(org=org, event=SSOEvents.GROUP_RULE_APPLIED).exists()


def test_a_team_joined_by_hand_is_not_left_by_the_rules(org, enabled, idp, rules):
    sign_in(idp, "teamer@acme.test")
    membership = Membership.objects.get(org=org, user__email="teamer@acme.test")
    TeamMember.objects.create(org=org, team=rules["team"], membership=membership)  # by hand
    sign_in(idp, "teamer@acme.test", {"groups": ["Other"]})
    assert TeamMember.objects.filter(team=rules["team"], membership=membership, by_rule=False).exists()


# What a returning sign-in costs -----------------------------------------------------


def _statements(queries):
    return [q["sql"] for q in queries.captured_queries if "SAVEPOINT" not in q["sql"]]


def _returning(org, connection, user, attributes):
    with CaptureQueriesContext(db) as queries:
        result = sso_login(org=org, name_id=user.email, connection=connection,
                           attributes={"email": [user.email], "firstName": [user.first_name],
                                       "lastName": [user.last_name], **attributes})
    assert result.status == "signed_in"
    return _statements(queries)


def test_returning_sign_in_with_the_switch_on_and_nothing_to_change_stays_cheap(org, roles_on, member, member_user):
    sso_login(org=org, name_id=member_user.email, attributes={"email": [member_user.email],
                                                              "planetscale_role": ["member"]})
    statements = _returning(org, roles_on, member_user, {"planetscale_role": ["member"]})
    # As with the switch off (test_login_cost.py): the read, then one write statement.
    assert len(statements) == (2 if db.vendor == "postgresql" else 4), statements


def test_returning_sign_in_with_group_rules_costs_a_constant_number_of_queries(org, enabled, member, member_user,
                                                                               rules):
    sso_login(org=org, name_id=member_user.email, attributes={"email": [member_user.email],
                                                              "groups": ["DBAs", "Backend"]})
    # Nothing to change: as without rules, the read (which brings the rules and the
    # member's rule teams along) and the one write.
    cheap = _returning(org, enabled, member_user, {"groups": ["DBAs", "Backend"]})
    assert len(cheap) == (2 if db.vendor == "postgresql" else 4), cheap
    # A change takes the ORM path; its cost does not grow with the number of groups sent.
    few = _returning(org, enabled, member_user, {"groups": ["Backend"]})
    many = _returning(org, enabled, member_user, {"groups": ["DBAs", "Backend"] + [f"g{i}" for i in range(300)]})
    assert Membership.objects.get(org=org, user=member_user).is_database_admin
    back = _returning(org, enabled, member_user, {"groups": ["Backend"]})
    assert len(few) == len(back) and len(many) <= len(few) + 1, (few, many)
