"""SPEC D3: no plan downgrade or add-on removal while SSO is enabled (command, service, admin),
and the operator's break-glass `sso_disable SLUG --reason TEXT` (D1/D2 with an audit event)."""
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from config.errors import Conflict
from orgs.audit import Events
from orgs.models import AuditEvent, Membership
from orgs.services import organization_set_plan
from scim.models import Directory
from scim.services import directory_enable
from sso.events import SSOEvents
from sso.models import SSOConnection
from sso.services import sso_disable, sso_enable, sso_login
from tests.conftest import PASSWORD, client_for, make_user
from tests.scim.conftest import ScimClient, user_body

pytestmark = pytest.mark.django_db
REFUSAL = "Single sign-on is enabled for Acme; disable single sign-on first"


def run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def plan_of(org) -> tuple[str, bool]:
    org.refresh_from_db()
    return org.plan, org.sso_addon


def plan_changes(org) -> int:
    return AuditEvent.objects.filter(org=org, event=Events.ORG_PLAN_CHANGED).count()


def disable_events(org):
    return AuditEvent.objects.filter(org=org, event=SSOEvents.DISABLED)


@pytest.fixture
def scaler_with_addon(org, admin_user, connection, django_capture_on_commit_callbacks):
    """Acme on Scaler with the SSO add-on, SSO enabled."""
    organization_set_plan(org=org, plan="scaler", sso_addon=True, actor=None)
    with django_capture_on_commit_callbacks(execute=True):
        sso_enable(org=org, actor=admin_user)
    return org


# The refusal -------------------------------------------------------------------


@pytest.mark.parametrize("args", [["hobby"], ["scaler"], ["scaler_pro", "--no-sso-addon"]])
def test_set_plan_downgrade_refused_while_sso_enabled(org, enabled, args):
    before = plan_changes(org)
    with pytest.raises(CommandError, match=REFUSAL) as refused:
        run("set_plan", "acme", *args)
    assert refused.value.returncode != 0
    assert "manage.py sso_disable acme --reason" in str(refused.value)
    assert plan_of(org) == ("enterprise", False)
    assert plan_changes(org) == before


@pytest.mark.parametrize("plan, addon", [("scaler", False), ("hobby", None), ("scaler_pro", False)])
def test_addon_removal_refused_while_sso_enabled(scaler_with_addon, plan, addon):
    org = scaler_with_addon
    before = plan_changes(org)
    with pytest.raises(Conflict, match=REFUSAL) as refused:
        organization_set_plan(org=org, plan=plan, sso_addon=addon, actor=None)
    assert refused.value.code == "sso_enabled" and refused.value.status == 409
    assert plan_of(org) == ("scaler", True)
    assert plan_changes(org) == before


def test_changes_that_keep_sso_available_are_allowed_while_enabled(scaler_with_addon):
    org = scaler_with_addon
    run("set_plan", "acme", "enterprise")
    assert plan_of(org) == ("enterprise", True)
    run("set_plan", "acme", "enterprise", "--no-sso-addon")
    assert plan_of(org) == ("enterprise", False)
    run("set_plan", "acme", "scaler_pro", "--sso-addon")
    assert plan_of(org) == ("scaler_pro", True)
    assert plan_changes(org) == 4  # the fixture's change and these three
    assert SSOConnection.objects.get(org=org).is_enabled


def test_downgrade_allowed_once_sso_is_disabled(org, enabled, admin_user):
    sso_disable(org=org, actor=admin_user)
    output = run("set_plan", "acme", "hobby")
    assert plan_of(org) == ("hobby", False) and "not available" in output
    assert AuditEvent.objects.get(org=org, event=Events.ORG_PLAN_CHANGED).new == {"plan": "hobby", "sso_addon": False}


def test_other_organizations_are_not_blocked_by_acme(org, enabled, other_org):
    run("set_plan", "other", "scaler", "--sso-addon")
    run("set_plan", "other", "hobby", "--no-sso-addon")
    assert plan_of(other_org) == ("hobby", False)


# Django admin --------------------------------------------------------------------


@pytest.fixture
def staff_client(db):
    return client_for(make_user("operator@gatehouse.test", is_staff=True, is_superuser=True))


def test_admin_change_form_refuses_downgrade_while_enabled(staff_client, org, enabled):
    url = f"/admin/orgs/organization/{org.pk}/change/"
    before = plan_changes(org)
    response = staff_client.post(url, {"plan": "scaler"})  # add-on box unticked
    assert response.status_code == 200
    body = response.content.decode()
    assert REFUSAL in body and "sso_disable acme" in body and "errornote" in body
    assert "changed successfully" not in body
    assert plan_of(org) == ("enterprise", False)
    assert plan_changes(org) == before


def test_admin_change_form_allows_a_change_that_keeps_sso(staff_client, org, enabled):
    url = f"/admin/orgs/organization/{org.pk}/change/"
    response = staff_client.post(url, {"plan": "scaler_pro", "sso_addon": "on"})
    assert response.status_code == 302
    assert plan_of(org) == ("scaler_pro", True)
    event = AuditEvent.objects.get(org=org, event=Events.ORG_PLAN_CHANGED)
    assert event.actor_label == "operator@gatehouse.test"


# Break-glass: sso_disable ----------------------------------------------------------


def test_sso_disable_command_is_d1_and_d2_with_an_audit_event(client, org, enabled, admin_user):
    # An administrator and a JIT member who signed in through the IdP: both SSO-only now (E2, E11).
    sso_login(org=org, name_id="ada@acme.test", attributes={"email": ["ada@acme.test"]})
    sso_login(org=org, name_id="jit@acme.test", attributes={"email": ["jit@acme.test"]})
    _, token = directory_enable(org=org, actor=admin_user)
    scim = ScimClient(org, token)
    assert scim.post("Users", user_body("dana@acme.test")).status_code == 201
    assert Membership.objects.get(org=org, user__email="dana@acme.test").directory_managed
    members = set(Membership.objects.filter(org=org).values_list("user__email", "role"))
    login = {"username": "ada@acme.test", "password": PASSWORD}
    assert client.post("/accounts/login/", login).status_code == 200  # refused: SSO only

    output = run("sso_disable", "ACME", "--reason", "  IdP tenant deleted; ticket OPS-42  ")

    assert "acme" in output and f"{len(members)} members kept" in output and "Directory Sync turned off" in output
    assert SSOConnection.objects.get(org=org).state == SSOConnection.State.CONFIGURED
    event = disable_events(org).get()
    assert event.actor is None and event.actor_label == "operator"
    assert event.new["reason"] == "IdP tenant deleted; ticket OPS-42"
    assert event.new["state"] == "configured"
    # D2: Directory Sync off, its token dead, memberships kept and released from the directory.
    assert not Directory.objects.get(org=org).enabled
    assert scim.get("Users").status_code == 401
    assert set(Membership.objects.filter(org=org).values_list("user__email", "role")) == members
    assert not Membership.objects.get(org=org, user__email="dana@acme.test").directory_managed
    # D1: the administrator's password works again.
    assert client.post("/accounts/login/", login).status_code == 302


def test_sso_disable_without_directory_sync_says_so(org, enabled):
    output = run("sso_disable", "acme", "--reason", "IdP lost")
    assert "Directory Sync was not on" in output
    assert not SSOConnection.objects.get(org=org).is_enabled


def test_break_glass_then_downgrade(org, enabled):
    with pytest.raises(CommandError, match=REFUSAL):
        run("set_plan", "acme", "hobby")
    run("sso_disable", "acme", "--reason", "customer left the IdP")
    run("set_plan", "acme", "hobby")
    assert plan_of(org) == ("hobby", False)


@pytest.mark.parametrize("args, message", [
    (["nope", "--reason", "IdP lost"], "No organization"),
    (["acme", "--reason", "   "], "reason is required"),
    (["acme", "--reason", "x" * 501], "keep it to 500"),
    (["acme"], "--reason"),
])
def test_sso_disable_bad_input_changes_nothing(org, enabled, args, message):
    with pytest.raises(CommandError, match=message) as refused:
        run("sso_disable", *args)
    assert refused.value.returncode != 0
    assert SSOConnection.objects.get(org=org).is_enabled
    assert not disable_events(org).exists()


def test_sso_disable_refuses_when_sso_is_not_configured(org):
    events = AuditEvent.objects.filter(org=org).count()
    with pytest.raises(CommandError, match="not configured for acme"):
        run("sso_disable", "acme", "--reason", "IdP lost")
    assert not SSOConnection.objects.filter(org=org).exists()
    assert AuditEvent.objects.filter(org=org).count() == events


def test_sso_disable_refuses_when_sso_is_not_enabled(org, connection):
    events = AuditEvent.objects.filter(org=org).count()
    with pytest.raises(CommandError, match="not enabled for acme"):
        run("sso_disable", "acme", "--reason", "IdP lost")
    assert SSOConnection.objects.get(org=org).state == SSOConnection.State.CONFIGURED
    assert AuditEvent.objects.filter(org=org).count() == events
