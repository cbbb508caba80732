"""Who the organization's IdP may sign in (SPEC §7, hostile IdP) when Directory Sync
attaches accounts, and who the SSO enable removes (E1/E2) when roles change after it."""
import pytest
from django.core import mail

from accounts.models import User
from orgs.models import AuditEvent, Membership
from orgs.services import membership_add, membership_change_role, membership_set_database_admin
from scim.models import DirectoryUser
from scim.services import directory_disable, directory_enable
from sso.events import SSOEvents
from sso.models import PendingLink, SSORemoval
from sso.selectors import awaits_sso_removal, members_awaiting_removal, tied_to_org
from sso.services import SSOLoginRefused, sso_disable, sso_enable, sso_link_confirm, sso_login, sso_removal_run
from teams.models import TeamMember
from teams.services import team_create, team_member_add
from tests.conftest import make_user, sso_client_for
from tests.scim.conftest import ScimClient, patch_body, set_role_management, user_body

from .conftest import post_acs, start_login

pytestmark = pytest.mark.django_db
VICTIM = "olga@other.test"  # the `outsider` fixture: an account with a password, no tie to acme


def _scim(org, admin_user):
    _, token = directory_enable(org=org, actor=admin_user)
    return ScimClient(org, token)


def _login(org, email):
    return sso_login(org=org, name_id=email, attributes={"email": [email]})


def _sso_login_http(client, idp, email):
    request_id, relay = start_login(client)
    return post_acs(client, idp.encoded(org_slug="acme", name_id=email, in_response_to=request_id), relay)


def _provision(scim, email, **extra):
    response = scim.post("Users", user_body(email, **extra))
    assert response.status_code == 201, response.content
    return response.json()["id"]


# 1. Directory Sync does not make a tie for an account it did not create ----------------


def test_scim_attaching_an_existing_account_does_not_let_the_idp_sign_it_in(
        client, org, enabled, idp, admin_user, outsider, django_capture_on_commit_callbacks):
    scim = _scim(org, admin_user)
    _provision(scim, VICTIM)
    membership = Membership.objects.get(org=org, user=outsider)
    assert membership.directory_managed
    assert DirectoryUser.objects.get(org=org, user=outsider).created_account is False
    assert not tied_to_org(org=org, user=outsider)

    with django_capture_on_commit_callbacks(execute=True):
        response = _sso_login_http(client, idp, VICTIM)
    assert response.status_code == 202 and b"Confirm from your email" in response.content
    assert "_auth_user_id" not in client.session
    assert PendingLink.objects.filter(org=org, user=outsider, used_at__isnull=True).count() == 1
    assert AuditEvent.objects.filter(org=org, event=SSOEvents.LINK_PENDING, target_label=VICTIM).exists()
    assert [m.to for m in mail.outbox] == [[VICTIM]]
    assert not AuditEvent.objects.filter(org=org, event=SSOEvents.LOGIN, actor=outsider).exists()


def test_discovery_does_not_send_an_attached_account_to_that_idp(org, enabled, admin_user, outsider):
    from sso.selectors import sso_org_for_email

    _provision(_scim(org, admin_user), VICTIM)
    assert sso_org_for_email(VICTIM) is None


def test_confirming_the_link_makes_the_directory_membership_a_tie(org, enabled, admin_user, outsider,
                                                                  django_capture_on_commit_callbacks):
    scim = _scim(org, admin_user)
    _provision(scim, VICTIM)
    with django_capture_on_commit_callbacks(execute=True):
        assert _login(org, VICTIM).status == "pending_link"
    token = mail.outbox[0].body.split("/sso/link/")[1].split("/")[0]
    result = sso_link_confirm(token=token)
    assert result.status == "signed_in" and result.user == outsider
    assert Membership.objects.get(org=org, user=outsider).owner_unconfirmed is False
    assert _login(org, VICTIM).status == "signed_in"


def test_disabling_the_directory_does_not_turn_the_attachment_into_a_tie(org, enabled, admin_user, outsider):
    scim = _scim(org, admin_user)
    _provision(scim, VICTIM)
    directory_disable(org=org, actor=admin_user)
    membership = Membership.objects.get(org=org, user=outsider)
    assert not membership.directory_managed  # released, but still never agreed to
    assert _login(org, VICTIM).status == "pending_link"


def test_deactivate_then_reactivate_is_still_no_tie(org, enabled, admin_user, outsider):
    scim = _scim(org, admin_user)
    user_id = _provision(scim, VICTIM)
    assert scim.patch(f"Users/{user_id}", patch_body({"op": "replace", "path": "active", "value": False})
                      ).status_code == 200
    assert not Membership.objects.filter(org=org, user=outsider).exists()
    assert scim.patch(f"Users/{user_id}", patch_body({"op": "replace", "path": "active", "value": True})
                      ).status_code == 200
    assert Membership.objects.get(org=org, user=outsider).directory_managed
    assert _login(org, VICTIM).status == "pending_link"


def test_email_change_to_an_existing_account_is_no_tie(org, enabled, admin_user, outsider):
    scim = _scim(org, admin_user)
    user_id = _provision(scim, "fresh@acme.test")
    response = scim.put(f"Users/{user_id}", user_body(VICTIM))
    assert response.status_code == 200, response.content
    # The directory user keeps its own account; the address, another account's, waits (issue 12).
    directory_user = DirectoryUser.objects.get(pk=user_id)
    assert directory_user.user.email == "fresh@acme.test" and directory_user.email_change_pending == VICTIM
    assert not Membership.objects.filter(org=org, user=outsider).exists()
    with pytest.raises(SSOLoginRefused):  # the directory never pushed the victim's account (E16)
        _login(org, VICTIM)


def test_sso_re_enable_does_not_turn_the_attachment_into_a_removal_tie(org, enabled, admin_user, outsider,
                                                                       django_capture_on_commit_callbacks):
    scim = _scim(org, admin_user)
    _provision(scim, VICTIM)
    sso_disable(org=org, actor=admin_user)  # Directory Sync goes off with it; the membership stays
    with django_capture_on_commit_callbacks(execute=True):
        sso_enable(org=org, actor=admin_user)  # … and is then removed by the enable job
    assert not Membership.objects.filter(org=org, user=outsider).exists()
    assert not SSORemoval.objects.filter(org=org, user=outsider).exists()
    assert _login(org, VICTIM).status == "pending_link"


def test_account_created_by_the_directory_signs_in_directly(client, org, enabled, idp, admin_user):
    scim = _scim(org, admin_user)
    _provision(scim, "newhire@acme.test")
    user = User.objects.get(email="newhire@acme.test")
    assert not user.has_usable_password()
    assert DirectoryUser.objects.get(org=org, user=user).created_account is True
    response = _sso_login_http(client, idp, "newhire@acme.test")
    assert response.status_code == 302, response.content
    assert int(client.session["_auth_user_id"]) == user.pk
    assert not PendingLink.objects.exists()


def test_reactivated_directory_created_account_still_signs_in_directly(org, enabled, admin_user):
    scim = _scim(org, admin_user)
    user_id = _provision(scim, "newhire@acme.test")
    scim.patch(f"Users/{user_id}", patch_body({"op": "replace", "path": "active", "value": False}))
    scim.patch(f"Users/{user_id}", patch_body({"op": "replace", "path": "active", "value": True}))
    assert _login(org, "newhire@acme.test").status == "signed_in"


def test_existing_member_signs_in_directly(org, enabled, outsider):
    membership_add(org=org, user=outsider, actor=None)  # e.g. the operator's add_member, after the enable
    assert _login(org, VICTIM).status == "signed_in"
    assert not PendingLink.objects.exists()


def test_existing_member_taken_over_by_the_directory_still_signs_in_directly(org, enabled, admin_user, outsider):
    membership = membership_add(org=org, user=outsider, actor=None)
    scim = _scim(org, admin_user)
    _provision(scim, VICTIM)
    membership.refresh_from_db()
    assert membership.directory_managed and not membership.owner_unconfirmed
    assert _login(org, VICTIM).status == "signed_in"


# 2. The enable removes by the role at enable time -------------------------------------


@pytest.fixture
def second_admin(org):
    user = make_user("bo@acme.test")
    return membership_add(org=org, user=user, role=Membership.Role.ADMIN, actor=None)


@pytest.fixture
def enabled_job_pending(connection, org, admin_user, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):  # the removal job has not run
        sso_enable(org=org, actor=admin_user)
    connection.refresh_from_db()
    return connection


def test_admin_demoted_after_the_enable_keeps_access_and_is_not_removed(org, member, second_admin, admin_user,
                                                                        enabled_job_pending):
    demoted = membership_change_role(org=org, membership=second_admin, role=Membership.Role.MEMBER,
                                     actor=admin_user)
    assert demoted.role_changed_at >= enabled_job_pending.enabled_at
    assert not awaits_sso_removal(demoted)
    assert list(members_awaiting_removal(org, enabled_job_pending.enabled_at)) == [member]
    bo = sso_client_for(demoted.user, org)
    assert bo.get("/orgs/acme/settings/members/").status_code == 200
    assert bo.get("/api/v1/organizations/acme/members").status_code == 200
    assert sso_removal_run(org=org) == 1  # the member only
    assert Membership.objects.filter(pk=demoted.pk).exists()
    assert not SSORemoval.objects.filter(org=org, user=demoted.user).exists()


def test_admin_demoted_after_the_enable_keeps_grant_and_teams_through_sso_login(org, second_admin, admin_user,
                                                                                enabled_job_pending):
    membership_set_database_admin(org=org, membership=second_admin, value=True, actor=admin_user)
    team = team_create(org=org, name="Core", actor=admin_user)
    team_member_add(org=org, team=team, membership=second_admin, actor=admin_user)
    membership_change_role(org=org, membership=second_admin, role=Membership.Role.MEMBER, actor=admin_user)
    assert _login(org, "bo@acme.test").status == "signed_in"
    kept = Membership.objects.get(org=org, user=second_admin.user)
    assert kept.pk == second_admin.pk and kept.is_database_admin and kept.role == Membership.Role.MEMBER
    assert TeamMember.objects.filter(team=team, membership=kept).exists()
    assert sso_removal_run(org=org) == 0
    assert Membership.objects.filter(pk=kept.pk).exists()


def test_admin_demoted_by_the_directory_after_the_enable_is_not_removed(org, second_admin, admin_user,
                                                                        enabled_job_pending):
    scim = _scim(org, admin_user)
    set_role_management(org)
    _provision(scim, "bo@acme.test", planetscale_role="member")
    membership = Membership.objects.get(pk=second_admin.pk)
    assert membership.role == Membership.Role.MEMBER and membership.role_changed_at is not None
    assert not awaits_sso_removal(membership)
    assert sso_removal_run(org=org) == 0
    assert Membership.objects.filter(pk=second_admin.pk).exists()


def test_admin_demoted_before_the_enable_is_removed(org, second_admin, admin_user, connection,
                                                    django_capture_on_commit_callbacks):
    membership_change_role(org=org, membership=second_admin, role=Membership.Role.MEMBER, actor=admin_user)
    with django_capture_on_commit_callbacks(execute=False):
        sso_enable(org=org, actor=admin_user)
    assert awaits_sso_removal(Membership.objects.get(pk=second_admin.pk))
    assert sso_removal_run(org=org) == 1
    assert not Membership.objects.filter(pk=second_admin.pk).exists()


def test_scim_activation_of_a_member_awaiting_removal_gives_a_fresh_membership(org, member, admin_user,
                                                                               enabled_job_pending):
    membership_set_database_admin(org=org, membership=member, value=True, actor=admin_user)
    scim = _scim(org, admin_user)
    user_id = _provision(scim, "max@acme.test")
    fresh = Membership.objects.get(org=org, user=member.user)
    assert fresh.pk != member.pk
    assert fresh.directory_managed and not fresh.is_database_admin and fresh.role == Membership.Role.MEMBER
    assert not awaits_sso_removal(fresh)
    assert DirectoryUser.objects.get(pk=user_id).membership_id == fresh.pk
    assert SSORemoval.objects.filter(org=org, user=member.user).exists()  # removed the way the job removes
    assert sso_removal_run(org=org) == 0
    assert Membership.objects.filter(pk=fresh.pk).exists()
    assert DirectoryUser.objects.get(pk=user_id).membership_id == fresh.pk
    assert sso_client_for(member.user, org).get("/orgs/acme/settings/members/").status_code == 200
    assert _login(org, "max@acme.test").status == "signed_in"
