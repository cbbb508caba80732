"""SPEC §2, E1–E10 and D1–D2: one test each (services and HTTP), the enable job, the hostile-IdP guard."""
import pytest
from django.core import mail
from django.db.models.signals import post_save

from accounts.models import User
from config.errors import NotAllowed
from orgs.models import AuditEvent, DatabasePassword, Invitation, Membership, ServiceToken
from orgs.services import (database_create, database_password_create, invitation_create, membership_add,
                           service_token_create)
from sso.events import SSOEvents
from sso.models import PendingLink, SSOConnection, SSOIdentity, SSORemoval
from sso.services import (domain_add, domain_verify, sso_disable, sso_enable, sso_link_confirm, sso_login,
                          sso_removal_run, sso_removal_run_batch)
from sso.signals import sso_disabled
from teams.models import TeamMember
from tests.conftest import PASSWORD, client_for, make_user, sso_client_for

from .conftest import post_acs, start_login, verify_domain_now

pytestmark = pytest.mark.django_db
AUTH_PAGE = "/orgs/acme/settings/authentication/"
ENABLE, DISABLE, CONFIGURE = (AUTH_PAGE + "enable/", AUTH_PAGE + "disable/", AUTH_PAGE + "idp/")


def _members(org, n, prefix="m"):
    users = [make_user(f"{prefix}{i}@acme.test", password=None) for i in range(n)]
    for user in users:
        membership_add(org=org, user=user, actor=None)
    return users


def _sso_login_http(client, idp, email):
    request_id, relay = start_login(client)
    return post_acs(client, idp.encoded(org_slug="acme", name_id=email, in_response_to=request_id), relay)


# E1 ---------------------------------------------------------------------------


def test_E1_enable_removes_all_non_admin_members_in_a_background_job(org, connection, member, admin_user,
                                                                   django_capture_on_commit_callbacks):
    _members(org, 5)
    with django_capture_on_commit_callbacks(execute=True):
        sso_enable(org=org, actor=admin_user)
    assert list(Membership.objects.filter(org=org).values_list("user__email", flat=True)) == ["ada@acme.test"]
    connection.refresh_from_db()
    assert (connection.removal_total, connection.removal_done, connection.removal_status) == (6, 6, "done")
    assert AuditEvent.objects.filter(org=org, event="member.removed", new__reason="sso_enabled").count() == 6
    assert len(mail.outbox) == 6 and "single sign-on" in mail.outbox[0].subject


def test_E1_enable_through_http_shows_progress(admin_client, org, connection, member,
                                              django_capture_on_commit_callbacks):
    page = admin_client.get(AUTH_PAGE)
    assert page.status_code == 200 and b"removes 1 non-admin member" in page.content
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(ENABLE, {"confirm": "1"})
    assert response.status_code == 302 and response["Location"] == AUTH_PAGE
    assert not Membership.objects.filter(org=org, user=member.user).exists()
    page = admin_client.get(AUTH_PAGE)
    assert b"Removing non-admin members: 1 of 1 (100%)" in page.content


def test_E1_job_works_in_batches_and_resumes_after_a_crash(org, connection, admin_user,
                                                         django_capture_on_commit_callbacks):
    _members(org, 7)
    with django_capture_on_commit_callbacks(execute=False):  # the job is not run: we drive it
        sso_enable(org=org, actor=admin_user)
    assert sso_removal_run_batch(org=org, batch_size=3) == 3
    # "crash": the process dies here; a new run picks up where the committed batches stopped.
    connection.refresh_from_db()
    assert connection.removal_done == 3 and connection.removal_status == "running"
    assert Membership.objects.filter(org=org).count() == 1 + 4
    assert sso_removal_run(org=org, batch_size=3) == 4
    assert Membership.objects.filter(org=org).count() == 1
    # idempotent: running again removes nothing and counts nothing twice
    assert sso_removal_run(org=org, batch_size=3) == 0
    connection.refresh_from_db()
    assert (connection.removal_done, connection.removal_status) == (7, "done")
    assert AuditEvent.objects.filter(org=org, event="member.removed").count() == 7


def test_E1_a_failed_batch_rolls_back_whole(org, connection, admin_user, django_capture_on_commit_callbacks,
                                           monkeypatch):
    _members(org, 4)
    with django_capture_on_commit_callbacks(execute=False):
        sso_enable(org=org, actor=admin_user)
    import sso.services as services

    def boom(**kwargs):
        raise RuntimeError("worker killed")

    monkeypatch.setattr(services, "membership_remove_batch", boom)
    with pytest.raises(RuntimeError):
        sso_removal_run_batch(org=org, batch_size=10)
    assert Membership.objects.filter(org=org).count() == 5
    assert not SSORemoval.objects.filter(org=org).exists()
    monkeypatch.undo()
    assert sso_removal_run(org=org) == 4


def test_E1_access_ends_at_enable_before_the_job_reaches_the_member(org, connection, member, admin_user,
                                                                    member_client,
                                                                    django_capture_on_commit_callbacks):
    assert member_client.get("/orgs/acme/settings/members/").status_code == 200
    assert member_client.get("/api/v1/organizations/acme/members").status_code == 200
    with django_capture_on_commit_callbacks(execute=False):  # the job has not run yet
        sso_enable(org=org, actor=admin_user)
    assert Membership.objects.filter(org=org, user=member.user).exists()
    # The open session no longer reaches the organization, on pages and through the API.
    assert member_client.get("/orgs/acme/settings/members/").status_code == 404
    assert member_client.get("/api/v1/organizations/acme/members").status_code == 404
    # Administrators keep access (E2), and the job then removes the member.
    assert client_for(admin_user).get("/orgs/acme/settings/members/").status_code == 200
    assert sso_removal_run(org=org) == 1


def test_E1_members_added_after_the_enable_are_not_removed_by_it(org, connection, admin_user,
                                                                  django_capture_on_commit_callbacks):
    _members(org, 3)
    with django_capture_on_commit_callbacks(execute=False):
        sso_enable(org=org, actor=admin_user)
    result = sso_login(org=org, name_id="later@acme.test", attributes={})  # JIT: a new account
    assert result.status == "signed_in"
    assert sso_removal_run(org=org) == 3
    assert Membership.objects.filter(org=org, user=result.user).exists()


def test_E1_removal_emails_are_an_outbox_a_failed_send_is_retried(org, connection, admin_user, monkeypatch,
                                                                   django_capture_on_commit_callbacks):
    from sso.services import sso_jobs_to_resume
    from sso.tasks import resume_sso_jobs, send_removal_emails

    _members(org, 3)
    with django_capture_on_commit_callbacks(execute=False):  # the job runs, its email task does not
        sso_enable(org=org, actor=admin_user)
        sso_removal_run(org=org)
    assert SSORemoval.objects.filter(org=org, notified_at__isnull=True).count() == 3
    assert sso_jobs_to_resume() == ([], [org.pk])
    monkeypatch.setattr("sso.tasks.send_mail", lambda **kwargs: (_ for _ in ()).throw(ConnectionError("smtp down")))
    with pytest.raises(ConnectionError):
        send_removal_emails.run(org.pk)
    assert SSORemoval.objects.filter(org=org, notified_at__isnull=True).count() == 3 and not mail.outbox
    monkeypatch.undo()
    assert resume_sso_jobs() == 1  # a starting worker queues the unsent emails (eager here)
    assert sorted(m.to[0] for m in mail.outbox) == ["m0@acme.test", "m1@acme.test", "m2@acme.test"]
    assert send_removal_emails.run(org.pk) == 0  # each once


def test_E1_enable_is_idempotent(org, connection, admin_user, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        sso_enable(org=org, actor=admin_user)
        sso_enable(org=org, actor=admin_user)
    assert AuditEvent.objects.filter(org=org, event=SSOEvents.ENABLED).count() == 1


# E2 ---------------------------------------------------------------------------


def test_E2_admin_keeps_password_until_first_sso_login_then_sso_only(client, org, enabled, idp, admin_user):
    assert client.post("/accounts/login/", {"username": "ada@acme.test", "password": PASSWORD}).status_code == 302
    client.logout()
    response = _sso_login_http(client, idp, "ada@acme.test")
    assert response.status_code == 302
    assert Membership.objects.get(org=org, user=admin_user).role == "admin"
    client.logout()
    refused = client.post("/accounts/login/", {"username": "ada@acme.test", "password": PASSWORD})
    assert refused.status_code == 200
    assert b"requires single sign-on" in refused.content and b'href="/sso/?org=acme"' in refused.content
    assert "_auth_user_id" not in client.session


def test_E2_password_refusal_through_service_policy(org, enabled, admin_user):
    from accounts.policy import password_signin_refusal

    assert password_signin_refusal(admin_user) is None
    sso_login(org=org, name_id="ada@acme.test", attributes={"email": ["ada@acme.test"]})
    assert "Acme requires single sign-on" in password_signin_refusal(admin_user)


# E3 ---------------------------------------------------------------------------


def test_E3_removed_member_rejoins_as_member_through_sso(client, org, member, enabled, idp, member_user):
    assert not Membership.objects.filter(org=org, user=member_user).exists()
    response = _sso_login_http(client, idp, "max@acme.test")
    assert response.status_code == 302
    assert Membership.objects.get(org=org, user=member_user).role == "member"
    assert client.get("/orgs/acme/settings/members/").status_code == 200


def test_E3_jit_creates_account_without_password(org, enabled):
    result = sso_login(org=org, name_id="brand.new@acme.test",
                       attributes={"email": ["brand.new@acme.test"], "firstName": ["Bea"], "lastName": ["New"]})
    user = User.objects.get(email="brand.new@acme.test")
    assert result.user == user and not user.has_usable_password() and user.first_name == "Bea"
    assert Membership.objects.get(org=org, user=user).role == "member"
    assert SSOIdentity.objects.get(user=user).org == org


def test_E3_member_not_yet_reached_by_the_job_is_reset_when_signing_in(org, connection, member, admin_user,
                                                                      django_capture_on_commit_callbacks):
    membership_add(org=org, user=member.user, actor=None)
    member.is_database_admin = True
    member.save()
    with django_capture_on_commit_callbacks(execute=False):
        sso_enable(org=org, actor=admin_user)
    sso_login(org=org, name_id="max@acme.test", attributes={"email": ["max@acme.test"]})
    m = Membership.objects.get(org=org, user=member.user)
    assert m.role == "member" and not m.is_database_admin
    assert sso_removal_run(org=org) == 0
    assert Membership.objects.filter(org=org, user=member.user).exists()


# E4 ---------------------------------------------------------------------------


def test_E4_invitations_revoked_and_blocked(admin_client, org, connection, admin_user,
                                           django_capture_on_commit_callbacks):
    invitation, token = invitation_create(org=org, email="later@acme.test", actor=admin_user)
    with django_capture_on_commit_callbacks(execute=True):
        sso_enable(org=org, actor=admin_user)
    invitation.refresh_from_db()
    assert invitation.status == Invitation.Status.REVOKED and invitation.revoke_reason == "sso_enabled"
    with pytest.raises(NotAllowed):
        invitation_create(org=org, email="new@acme.test", actor=admin_user)
    response = admin_client.post("/orgs/acme/settings/invitations/", {"email": "x@acme.test", "role": "member"})
    assert response.status_code in (302, 400, 403)
    assert not Invitation.objects.filter(org=org, email="x@acme.test").exists()


# E5, E6, E7 -------------------------------------------------------------------


def _enrich(org, member, admin_user):
    from teams.services import team_create, team_member_add

    member.is_database_admin = True
    member.save()
    team = team_create(org=org, name="Core", actor=admin_user)
    team_member_add(org=org, team=team, membership=member, actor=admin_user)
    database = database_create(org=org, name="prod", actor=member.user)
    password, _ = database_password_create(org=org, database=database, name="app", access="read_write",
                                           actor=member.user)
    token, _ = service_token_create(org=org, name="ci", actor=member.user)
    return team, password, token


def test_E5_former_database_admin_comes_back_without_the_grant(client, org, member, connection, admin_user, idp,
                                                              django_capture_on_commit_callbacks):
    _enrich(org, member, admin_user)
    with django_capture_on_commit_callbacks(execute=True):
        sso_enable(org=org, actor=admin_user)
    _sso_login_http(client, idp, "max@acme.test")
    assert Membership.objects.get(org=org, user=member.user).is_database_admin is False


def test_E6_former_team_memberships_are_not_restored(client, org, member, connection, admin_user, idp,
                                                    django_capture_on_commit_callbacks):
    team, _, _ = _enrich(org, member, admin_user)
    with django_capture_on_commit_callbacks(execute=True):
        sso_enable(org=org, actor=admin_user)
    _sso_login_http(client, idp, "max@acme.test")
    assert not TeamMember.objects.filter(team=team).exists()


def test_E7_credentials_of_removed_members_stay_active(org, member, connection, admin_user,
                                                      django_capture_on_commit_callbacks):
    _, password, token = _enrich(org, member, admin_user)
    with django_capture_on_commit_callbacks(execute=True):
        sso_enable(org=org, actor=admin_user)
    assert DatabasePassword.objects.get(pk=password.pk).is_active
    assert ServiceToken.objects.get(pk=token.pk).is_active


def test_E7_preview_counts_what_stays(admin_client, org, member, connection, admin_user):
    _enrich(org, member, admin_user)
    response = admin_client.get(AUTH_PAGE)
    assert b"keeps 1 database password and 1 service token active" in response.content
    assert b"max@acme.test" in response.content


# E8 ---------------------------------------------------------------------------


def test_E8_member_removed_at_idp_stays_listed_but_cannot_sign_in(client, org, member, enabled, idp, member_user):
    _sso_login_http(client, idp, "max@acme.test")
    client.logout()
    # The IdP removed Max: it no longer issues assertions for him; nothing changes here.
    assert Membership.objects.filter(org=org, user=member_user).exists()
    refused = client.post("/accounts/login/", {"username": "max@acme.test", "password": PASSWORD})
    assert "_auth_user_id" not in client.session and refused.status_code == 200


# E9 ---------------------------------------------------------------------------


def test_E9_email_linked_to_one_sso_org_only(client, org, other_org, enabled, idp, outsider):
    from sso.services import sso_configure

    from .idp import TestIdP

    other_idp = TestIdP(entity_id="https://other-idp.test", key_name="other")
    sso_configure(org=other_org, actor=outsider, idp_entity_id=other_idp.entity_id,
                  idp_sso_url="https://other-idp.test/sso", certificates=[other_idp.cert_pem])
    other_org.plan = "enterprise"
    other_org.save()
    sso_enable(org=other_org, actor=outsider)
    sso_login(org=org, name_id="max@acme.test", attributes={"email": ["max@acme.test"]})
    max_user = User.objects.get(email="max@acme.test")
    membership_add(org=other_org, user=max_user, actor=None)  # may belong to many orgs
    request_id, relay = start_login(client, org_slug="other")
    response = post_acs(client, other_idp.encoded(org_slug="other", name_id="max@acme.test",
                                                  in_response_to=request_id), relay, org_slug="other")
    assert response.status_code == 403 and b"only one SSO organization" in response.content
    assert "_auth_user_id" not in client.session
    assert SSOIdentity.objects.get(user=max_user).org == org


# E10 --------------------------------------------------------------------------


def test_E10_only_admins_enable_configure_disable(member_client, org, member, connection):
    for url, data in ((ENABLE, {"confirm": "1"}), (DISABLE, {}),
                      (CONFIGURE, {"idp_entity_id": "x", "idp_sso_url": "https://x.test/"})):
        assert member_client.post(url, data).status_code == 403
    connection.refresh_from_db()
    assert connection.state == "configured" and connection.idp_entity_id != "x"
    assert member_client.get(AUTH_PAGE).status_code == 200


def test_E10_other_org_cannot_see_or_change(outsider_client, org, connection):
    assert outsider_client.get(AUTH_PAGE).status_code == 404
    assert outsider_client.post(ENABLE, {"confirm": "1"}).status_code == 404
    assert outsider_client.get("/sso/acme/test/").status_code == 404
    connection.refresh_from_db()
    assert connection.state == "configured"


def test_enable_refused_without_plan_or_configuration(admin_client, org, admin_user):
    response = admin_client.post(ENABLE, {"confirm": "1"})
    assert response.status_code == 409
    org.plan = "scaler"
    org.save()
    assert b"not included in your plan" in admin_client.get(AUTH_PAGE).content


def test_enable_needs_confirmation(admin_client, org, connection):
    response = admin_client.post(ENABLE, {})
    assert response.status_code == 400
    connection.refresh_from_db()
    assert connection.state == "configured"


def test_bad_configuration_input_changes_nothing(admin_client, org, connection):
    before = (connection.idp_entity_id, connection.idp_sso_url)
    for url, data in ((CONFIGURE, {"idp_entity_id": "", "idp_sso_url": "nope"}),
                      (AUTH_PAGE + "idp/metadata/", {"metadata_xml": "<not xml"}),
                      (AUTH_PAGE + "idp/metadata-url/", {"metadata_url": "http://127.0.0.1/metadata"}),
                      (AUTH_PAGE + "certificates/add/", {"certificate": "garbage"}),
                      (AUTH_PAGE, {"action": "bogus"})):  # the page itself takes no POST
        response = admin_client.post(url, data)
        assert 400 <= response.status_code < 500, data
    connection.refresh_from_db()
    assert (connection.idp_entity_id, connection.idp_sso_url) == before


# D1, D2 -----------------------------------------------------------------------


def test_D1_disable_lets_users_sign_in_with_their_password_again(client, admin_client, org, enabled, admin_user):
    sso_login(org=org, name_id="ada@acme.test", attributes={"email": ["ada@acme.test"]})
    assert client.post("/accounts/login/", {"username": "ada@acme.test", "password": PASSWORD}).status_code == 200
    # E12: after her first IdP sign-in, her old password session no longer reaches the organization.
    assert admin_client.post(DISABLE).status_code == 403
    assert sso_client_for(admin_user, org).post(DISABLE).status_code == 302
    assert client.post("/accounts/login/", {"username": "ada@acme.test", "password": PASSWORD}).status_code == 302


@pytest.mark.parametrize("domain_verified", [True, False])
def test_D1_jit_users_without_password_use_the_reset_flow(client, org, enabled, admin_user, domain_verified,
                                                          django_capture_on_commit_callbacks):
    if domain_verified:
        verify_domain_now(org, "acme.test")
    sso_login(org=org, name_id="jit@acme.test", attributes={"email": ["jit@acme.test"]})
    sso_disable(org=org, actor=admin_user)
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/accounts/password-reset/", {"email": "jit@acme.test"})
    (message,) = [m for m in mail.outbox if "jit@acme.test" in m.to]
    # A claimed account gets a reset link; an unclaimed one (E14) a claim link, which ends
    # the ties the IdP made before its owner sets a password.
    assert ("/accounts/reset/" if domain_verified else "/accounts/claim/") in message.body



def test_D2_disable_sends_signal_in_transaction_and_keeps_memberships(org, enabled, admin_user):
    seen = []

    def receiver(sender, org, actor, **kwargs):
        from django.db import connection

        seen.append((org.slug, actor, connection.in_atomic_block))

    sso_disabled.connect(receiver)
    try:
        sso_login(org=org, name_id="jit@acme.test", attributes={"email": ["jit@acme.test"]})
        sso_disable(org=org, actor=admin_user)
    finally:
        sso_disabled.disconnect(receiver)
    assert seen == [("acme", admin_user, True)]
    assert Membership.objects.filter(org=org, user__email="jit@acme.test").exists()
    assert SSOConnection.objects.get(org=org).state == "configured"


# Hostile-IdP guard -------------------------------------------------------------


def test_hostile_idp_cannot_sign_in_an_unrelated_account(client, org, enabled, idp, outsider,
                                                         django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = _sso_login_http(client, idp, "olga@other.test")
    assert response.status_code == 202 and b"Confirm from your email" in response.content
    assert "_auth_user_id" not in client.session
    assert not Membership.objects.filter(org=org, user=outsider).exists()
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["olga@other.test"]
    link = mail.outbox[0].body.split("/sso/link/")[1].split("/")[0]
    assert client.get(f"/sso/link/{link}/").status_code == 200
    assert not Membership.objects.filter(org=org, user=outsider).exists()  # a GET changes nothing
    assert client.post(f"/sso/link/{link}/").status_code == 302
    assert Membership.objects.get(org=org, user=outsider).role == "member"
    assert int(client.session["_auth_user_id"]) == outsider.pk
    assert client.post(f"/sso/link/{link}/").status_code == 400  # single use


def test_bad_link_token_is_400(client, db):
    assert client.get("/sso/link/nonsense/").status_code == 400


def test_verified_domain_ties_existing_accounts(org, enabled, admin_user):
    make_user("someone@acme.test")
    record = domain_add(org=org, actor=admin_user, domain="acme.test")
    with pytest.raises(Exception):
        domain_verify(org=org, actor=admin_user, domain_id=record.pk, resolver=lambda d: ["unrelated"])
    domain_verify(org=org, actor=admin_user, domain_id=record.pk, resolver=lambda d: [record.txt_record])
    result = sso_login(org=org, name_id="someone@acme.test", attributes={"email": ["someone@acme.test"]})
    assert result.status == "signed_in"


def test_removed_by_sso_enable_counts_as_a_tie(org, member, enabled):
    result = sso_login(org=org, name_id="max@acme.test", attributes={"email": ["max@acme.test"]})
    assert result.status == "signed_in" and not PendingLink.objects.exists()
