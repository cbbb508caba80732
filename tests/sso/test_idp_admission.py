"""Whom an organization's IdP may sign in (SPEC E14's staff rule, E16): never an
operator account, and under Directory Sync only the users the directory pushed and has
not deactivated. Through the ACS with responses signed by signxml (tests/sso/idp.py)."""
import pytest
from django.core.management import call_command

from orgs.models import AuditEvent, Membership
from orgs.services import membership_add, membership_remove
from scim.models import DirectoryUser
from sso.events import SSOEvents
from sso.models import SSOIdentity
from tests.conftest import client_for, make_user, sso_client_for
from tests.scim.conftest import directory_for, patch_body, provision

from .conftest import post_acs, start_login

pytestmark = pytest.mark.django_db


def _sign_in(client, idp, email):
    request_id, relay = start_login(client)
    return post_acs(client, idp.encoded(org_slug="acme", name_id=email, in_response_to=request_id), relay)


def _rejections(org, code):
    return [e for e in AuditEvent.objects.filter(org=org, event=SSOEvents.LOGIN_REJECTED) if e.new["code"] == code]


# Operators --------------------------------------------------------------------------


def test_the_acs_refuses_an_operator_account(client, org, enabled, idp, admin_user):
    admin_user.is_staff = True
    admin_user.save(update_fields=["is_staff"])
    response = _sign_in(client, idp, admin_user.email)
    assert response.status_code == 403
    assert b"operators sign in with their password" in response.content
    assert "_auth_user_id" not in client.session
    assert not SSOIdentity.objects.filter(user=admin_user).exists()
    assert len(_rejections(org, "staff_account")) == 1


def test_a_linked_account_made_staff_later_is_refused_on_its_next_sign_in(client, org, enabled, idp, admin_user):
    assert _sign_in(client, idp, admin_user.email).status_code == 302  # linked, returning from now on
    admin_user.is_superuser = True
    admin_user.save(update_fields=["is_superuser"])
    again = _sign_in(client_for(admin_user), idp, admin_user.email)
    assert again.status_code == 403 and len(_rejections(org, "staff_account")) == 1


def test_an_sso_session_never_opens_the_admin_site(org, enabled, admin_user):
    session = sso_client_for(admin_user, org)
    admin_user.is_staff = admin_user.is_superuser = True  # made an operator after signing in through the IdP
    admin_user.save(update_fields=["is_staff", "is_superuser"])
    assert session.get("/admin/").status_code == 302
    assert session.get("/admin/orgs/organization/").status_code == 302
    assert client_for(admin_user).get("/admin/").status_code == 200  # a password session does


def test_add_member_warns_about_a_staff_account_in_an_sso_organization(org, enabled, capsys):
    make_user("op@gatehouse.test", is_staff=True)
    call_command("add_member", "acme", "op@gatehouse.test")
    captured = capsys.readouterr()
    assert "Added op@gatehouse.test" in captured.out
    assert "operator (staff) account" in captured.err and "enforces single sign-on" in captured.err
    make_user("plain@acme.test")
    call_command("add_member", "acme", "plain@acme.test")
    assert "Warning" not in capsys.readouterr().err


# E16: under Directory Sync the directory decides --------------------------------------


@pytest.fixture
def scim(org, enabled, admin_user):
    return directory_for(org, admin_user)


def test_jit_refuses_a_user_the_directory_never_pushed(client, org, scim, idp):
    response = _sign_in(client, idp, "stranger@acme.test")
    assert response.status_code == 403 and b"has not provisioned you" in response.content
    assert not Membership.objects.filter(org=org, user__email="stranger@acme.test").exists()
    assert "_auth_user_id" not in client.session
    assert len(_rejections(org, "not_admitted_by_directory")) == 1


def test_jit_refuses_a_user_the_directory_deactivated(client, org, scim, idp):
    user_id = provision(scim, "dee@acme.test")
    scim.patch(f"Users/{user_id}", patch_body({"op": "replace", "path": "active", "value": False}))
    response = _sign_in(client, idp, "dee@acme.test")
    assert response.status_code == 403 and b"directory has removed you" in response.content
    assert not Membership.objects.filter(org=org, user__email="dee@acme.test").exists()
    assert scim.get(f"Users/{user_id}").json()["active"] is False


def test_jit_admits_a_pushed_user_and_the_directory_can_remove_them(client, org, scim, idp, admin_user):
    user_id = provision(scim, "pia@acme.test")
    assert _sign_in(client, idp, "pia@acme.test").status_code == 302  # linked to this IdP
    pushed = Membership.objects.get(org=org, user__email="pia@acme.test")
    # Gone while the directory still says active (as before E16, when a JIT membership stood alone).
    membership_remove(org=org, membership=pushed, actor=None, by_directory=True)
    assert _sign_in(client, idp, "pia@acme.test").status_code == 302  # the directory still says active
    joined = Membership.objects.get(org=org, user__email="pia@acme.test")
    assert joined.directory_managed
    assert DirectoryUser.objects.get(pk=user_id).membership_id == joined.pk
    assert scim.delete(f"Users/{user_id}").status_code == 204
    assert not Membership.objects.filter(org=org, user__email="pia@acme.test").exists()
    assert client.get("/orgs/acme/settings/members/").status_code == 404  # access ended at once


def test_deactivate_removes_a_membership_however_it_came(org, scim, admin_user):
    user_id = provision(scim, "ola@acme.test")
    pushed = Membership.objects.get(org=org, user__email="ola@acme.test")
    membership_remove(org=org, membership=pushed, actor=None, by_directory=True)
    # The operator adds her back by hand: a membership the directory did not make.
    membership_add(org=org, user=pushed.user, role=Membership.Role.MEMBER, actor=None)
    assert DirectoryUser.objects.get(pk=user_id).membership_id is None
    response = scim.patch(f"Users/{user_id}", patch_body({"op": "replace", "path": "active", "value": False}))
    assert response.status_code == 200 and response.json()["active"] is False
    assert not Membership.objects.filter(org=org, user=pushed.user).exists()


def test_without_directory_sync_jit_is_as_before(client, org, enabled, idp):
    assert _sign_in(client, idp, "newbie@acme.test").status_code == 302
    assert Membership.objects.get(org=org, user__email="newbie@acme.test").role == Membership.Role.MEMBER
