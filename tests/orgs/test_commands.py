"""Operator commands (SPEC §4): each works, and bad input is a clear error with a non-zero exit."""
import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from accounts.models import User
from orgs.models import AuditEvent, DatabasePassword, Membership, Organization, ServiceToken
from orgs.services import service_token_authenticate
from teams.models import Team, TeamMember
from teams.services import team_create


def run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_create_user_with_and_without_password(db):
    run("create_user", "Op@Example.com", "--password", "a long enough pw 1", "--staff")
    run("create_user", "nopw@example.com")
    op = User.objects.get(email="op@example.com")
    assert op.is_staff and op.is_superuser and op.check_password("a long enough pw 1")
    assert not User.objects.get(email="nopw@example.com").has_usable_password()


@pytest.mark.parametrize("email", ["not-an-email", "ada@acme.test"])
def test_create_user_bad_input(admin_user, email):
    with pytest.raises(CommandError):
        run("create_user", email)
    assert User.objects.count() == 1


def test_create_org_and_errors(admin_user):
    output = run("create_org", "widgets", "--name", "Widgets", "--admin", "ADA@acme.test", "--plan", "scaler",
                 "--sso-addon")
    assert "widgets" in output
    org = Organization.objects.get(slug="widgets")
    assert org.sso_available and Membership.objects.get(org=org).role == "admin"
    with pytest.raises(CommandError, match="already exists"):
        run("create_org", "widgets", "--name", "W", "--admin", "ada@acme.test")
    with pytest.raises(CommandError, match="No account"):
        run("create_org", "gadgets", "--name", "G", "--admin", "nobody@example.com")
    with pytest.raises(CommandError):
        run("create_org", "Bad Slug", "--name", "G", "--admin", "ada@acme.test")
    with pytest.raises(CommandError):
        run("create_org", "gadgets", "--name", "G", "--admin", "ada@acme.test", "--plan", "gold")
    assert Organization.objects.count() == 1


def test_set_plan(org):
    output = run("set_plan", "acme", "scaler", "--no-sso-addon")
    org.refresh_from_db()
    assert org.plan == "scaler" and not org.sso_available and "not available" in output
    run("set_plan", "acme", "scaler_pro", "--sso-addon")
    org.refresh_from_db()
    assert org.sso_available
    assert AuditEvent.objects.filter(org=org, event="org.plan_changed").count() == 2
    with pytest.raises(CommandError):
        run("set_plan", "nope", "scaler")


def test_add_member_with_grant_and_teams(org, member_user, admin_user):
    Membership.objects.filter(org=org, user=member_user).delete()
    team_create(org=org, name="Platform", actor=admin_user)
    run("add_member", "acme", "max@acme.test", "--role", "member", "--database-admin", "--team", "platform")
    membership = Membership.objects.get(org=org, user=member_user)
    assert membership.is_database_admin
    assert TeamMember.objects.filter(membership=membership, team__name="Platform").exists()


def test_add_member_errors_change_nothing(org, member, outsider):
    with pytest.raises(CommandError, match="already a member"):
        run("add_member", "acme", "max@acme.test")
    with pytest.raises(CommandError, match="No team"):
        run("add_member", "acme", "olga@other.test", "--team", "Ghosts")
    with pytest.raises(CommandError):
        run("add_member", "nope", "olga@other.test")
    assert not Membership.objects.filter(org=org, user=outsider).exists()


def test_create_service_token_prints_json(org, member):
    data = json.loads(run("create_service_token", "acme", "--user", "max@acme.test"))
    token = ServiceToken.objects.get(pk=data["id"])
    assert service_token_authenticate(data["token"]) == token and token.role == "member"
    with pytest.raises(CommandError):
        run("create_service_token", "acme", "--user", "olga@other.test")


def test_demo_loads_once(db):
    run("demo")
    org = Organization.objects.get(slug="acme")
    assert Membership.objects.filter(org=org, role="admin").count() == 2
    assert Membership.objects.filter(org=org, is_database_admin=True).exists()
    assert Team.objects.filter(org=org).count() == 2
    assert DatabasePassword.objects.filter(org=org).exists() and ServiceToken.objects.filter(org=org).exists()
    before = AuditEvent.objects.count()
    assert "already there" in run("demo")
    assert AuditEvent.objects.count() == before
