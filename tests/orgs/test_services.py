"""orgs.services: behaviour, the audit event each writes, idempotence, and the rules that hold for everyone."""
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from config.errors import Conflict, NotAllowed, ServiceError
from orgs.models import AuditEvent, Invitation, Membership, Organization, Plan, ServiceToken
from orgs.services import (
    database_create,
    database_password_create,
    database_password_revoke,
    invitation_accept,
    invitation_create,
    invitation_lookup,
    invitation_resend,
    invitation_revoke,
    InvitationInvalid,
    membership_add,
    membership_change_role,
    membership_leave,
    membership_remove,
    membership_set_database_admin,
    organization_create,
    organization_set_plan,
    service_token_authenticate,
    service_token_create,
    service_token_revoke,
)
from teams.models import TeamMember
from teams.services import team_create, team_member_add
from tests.conftest import make_user

Role = Membership.Role


def events(org, event):
    return AuditEvent.objects.filter(org=org, event=event)


class TestOrganization:
    def test_creator_becomes_admin_and_both_are_audited(self, admin_user):
        org = organization_create(slug="Widgets", name="Widgets", creator=admin_user)
        assert org.slug == "widgets" and org.plan == Plan.HOBBY
        assert Membership.objects.get(org=org, user=admin_user).role == Role.ADMIN
        assert events(org, "org.created").count() == 1

    @pytest.mark.parametrize("slug", ["", "-bad", "bad-", "has space", "x" * 51, "new", "ÜBER", "link", "test-idp"])
    def test_bad_slug_is_refused_and_nothing_created(self, admin_user, slug):
        with pytest.raises(ServiceError):
            organization_create(slug=slug, name="X", creator=admin_user)
        assert not Organization.objects.exists()

    def test_duplicate_slug_conflicts(self, org, outsider):
        with pytest.raises(Conflict):
            organization_create(slug="acme", name="Acme again", creator=outsider)

    def test_sso_availability_follows_plan_and_addon(self, org):
        for plan, addon, available in [
            (Plan.HOBBY, True, False), (Plan.SCALER, False, False), (Plan.SCALER, True, True),
            (Plan.SCALER_PRO, True, True), (Plan.ENTERPRISE, False, True),
        ]:
            organization_set_plan(org=org, plan=plan, sso_addon=addon, actor=None)
            org.refresh_from_db()
            assert org.sso_available is available, (plan, addon)

    def test_set_plan_is_audited_once_and_idempotent(self, org):
        organization_set_plan(org=org, plan=Plan.SCALER, sso_addon=True, actor=None)
        organization_set_plan(org=org, plan=Plan.SCALER, sso_addon=True, actor=None)
        event = events(org, "org.plan_changed").get()
        assert event.old == {"plan": "enterprise", "sso_addon": False}
        assert event.new == {"plan": "scaler", "sso_addon": True}
        assert event.actor_label == "operator"

    def test_unknown_plan_refused(self, org):
        with pytest.raises(ServiceError):
            organization_set_plan(org=org, plan="platinum", actor=None)


class TestMemberships:
    def test_add_is_idempotent(self, org, member):
        again = membership_add(org=org, user=member.user, role=Role.ADMIN, actor=None)
        assert again.pk == member.pk and again.role == Role.MEMBER
        assert events(org, "member.added").filter(target_id=str(member.pk)).count() == 1

    def test_change_role_audits_old_and_new(self, org, member, admin_user):
        membership_change_role(org=org, membership=member, role=Role.ADMIN, actor=admin_user)
        event = events(org, "member.role_changed").get()
        assert (event.old, event.new, event.actor) == ({"role": "member"}, {"role": "admin"}, admin_user)

    def test_nobody_changes_their_own_role(self, org, admin_membership, admin_user, member):
        membership_change_role(org=org, membership=member, role=Role.ADMIN, actor=admin_user)
        with pytest.raises(NotAllowed):
            membership_change_role(org=org, membership=admin_membership, role=Role.MEMBER, actor=admin_user)
        admin_membership.refresh_from_db()
        assert admin_membership.role == Role.ADMIN

    def test_last_admin_cannot_be_demoted_removed_or_leave(self, org, admin_membership, admin_user, member):
        with pytest.raises(Conflict):
            membership_change_role(org=org, membership=admin_membership, role=Role.MEMBER, actor=None)
        with pytest.raises(Conflict):
            membership_remove(org=org, membership=admin_membership, actor=None)
        with pytest.raises(Conflict):
            membership_leave(org=org, user=admin_user)
        assert Membership.objects.filter(pk=admin_membership.pk, role=Role.ADMIN).exists()

    def test_a_second_admin_lets_the_first_leave(self, org, admin_user, member):
        membership_change_role(org=org, membership=member, role=Role.ADMIN, actor=admin_user)
        assert membership_leave(org=org, user=admin_user) is True
        assert events(org, "member.removed").get().new == {"reason": "left"}

    def test_database_admin_grant_is_idempotent(self, org, member, admin_user):
        membership_set_database_admin(org=org, membership=member, value=True, actor=admin_user)
        membership_set_database_admin(org=org, membership=member, value=True, actor=admin_user)
        assert events(org, "member.database_admin_changed").count() == 1

    def test_remove_drops_grant_and_teams_but_keeps_credentials(self, org, member, admin_user):
        membership_set_database_admin(org=org, membership=member, value=True, actor=admin_user)
        team = team_create(org=org, name="Platform", actor=admin_user)
        team_member_add(org=org, team=team, membership=member, actor=admin_user)
        database = database_create(org=org, name="orders", actor=member.user)
        password, _ = database_password_create(org=org, database=database, name="app", access="read_write",
                                               actor=member.user)
        token, secret = service_token_create(org=org, name="deploy", actor=member.user)

        assert membership_remove(org=org, membership=member, actor=admin_user) is True
        assert membership_remove(org=org, membership=member, actor=admin_user) is False  # already gone

        assert not TeamMember.objects.filter(team=team).exists()
        password.refresh_from_db()
        assert password.is_active
        assert service_token_authenticate(secret) == token
        event = events(org, "member.removed").get()
        assert event.old == {"role": "member", "database_admin": True}
        rejoined = membership_add(org=org, user=member.user, actor=None)
        assert rejoined.is_database_admin is False
        assert not TeamMember.objects.filter(membership=rejoined).exists()

    def test_directory_managed_member_is_not_edited_by_hand(self, org, member, admin_user):
        Membership.objects.filter(pk=member.pk).update(directory_managed=True)
        with pytest.raises(NotAllowed):
            membership_change_role(org=org, membership=member, role=Role.ADMIN, actor=admin_user)
        with pytest.raises(NotAllowed):
            membership_remove(org=org, membership=member, actor=admin_user)
        assert membership_remove(org=org, membership=member, actor=None, by_directory=True) is True

    def test_membership_of_another_org_is_not_found(self, org, other_org, outsider, admin_user):
        foreign = Membership.objects.get(org=other_org, user=outsider)
        with pytest.raises(ServiceError):
            membership_change_role(org=org, membership=foreign, role=Role.MEMBER, actor=admin_user)
        assert membership_remove(org=org, membership=foreign, actor=admin_user) is False
        assert Membership.objects.filter(pk=foreign.pk).exists()


class TestInvitations:
    def test_create_emails_a_one_time_link(self, org, admin_user, django_capture_on_commit_callbacks):
        with django_capture_on_commit_callbacks(execute=True):
            invitation, token = invitation_create(org=org, email=" New@Example.COM ", role="admin",
                                                  actor=admin_user)
        assert invitation.email == "new@example.com"
        assert invitation.token_hash != token and token not in invitation.token_hash
        assert len(mail.outbox) == 1 and f"/invitations/{token}/" in mail.outbox[0].body
        assert mail.outbox[0].to == ["new@example.com"]
        assert events(org, "invitation.created").count() == 1

    @pytest.mark.parametrize("email", ["", "not-an-email", "a@", "@b.c", "x" * 250 + "@a.io"])
    def test_invalid_email_refused(self, org, admin_user, email):
        with pytest.raises(ServiceError):
            invitation_create(org=org, email=email, actor=admin_user)
        assert not Invitation.objects.exists()

    def test_member_or_pending_email_conflicts(self, org, member, admin_user):
        with pytest.raises(Conflict):
            invitation_create(org=org, email=member.user.email.upper(), actor=admin_user)
        invitation_create(org=org, email="p@example.com", actor=admin_user)
        with pytest.raises(Conflict):
            invitation_create(org=org, email="P@example.com", actor=admin_user)

    def test_expired_pending_invitation_is_replaced(self, org, admin_user):
        old, _ = invitation_create(org=org, email="p@example.com", actor=admin_user)
        Invitation.objects.filter(pk=old.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
        new, _ = invitation_create(org=org, email="p@example.com", actor=admin_user)
        old.refresh_from_db()
        assert old.status == "revoked" and old.revoke_reason == "expired" and new.status == "pending"

    def test_accept_creates_membership_once(self, org, admin_user):
        invitation, token = invitation_create(org=org, email="p@example.com", role="admin", actor=admin_user)
        user = make_user("p@example.com")
        membership = invitation_accept(token=token, user=user)
        assert membership.role == Role.ADMIN
        with pytest.raises(InvitationInvalid) as used:
            invitation_accept(token=token, user=user)
        assert used.value.code == "invitation_used"

    def test_accept_by_another_email_is_refused(self, org, admin_user, outsider):
        _, token = invitation_create(org=org, email="p@example.com", actor=admin_user)
        with pytest.raises(NotAllowed):
            invitation_accept(token=token, user=outsider)
        assert not Membership.objects.filter(org=org, user=outsider).exists()

    def test_expired_revoked_and_unknown_tokens(self, org, admin_user):
        expired, expired_token = invitation_create(org=org, email="e@example.com", actor=admin_user)
        Invitation.objects.filter(pk=expired.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
        revoked, revoked_token = invitation_create(org=org, email="r@example.com", actor=admin_user)
        invitation_revoke(org=org, invitation=revoked, actor=admin_user)
        for token, code in [(expired_token, "invitation_expired"), (revoked_token, "invitation_revoked"),
                            ("ghi_nope", "invitation_invalid"), ("", "invitation_invalid")]:
            with pytest.raises(InvitationInvalid) as exc:
                invitation_lookup(token)
            assert exc.value.code == code

    def test_resend_replaces_the_link(self, org, admin_user):
        invitation, first = invitation_create(org=org, email="p@example.com", actor=admin_user)
        _, second = invitation_resend(org=org, invitation=invitation, actor=admin_user)
        with pytest.raises(InvitationInvalid):
            invitation_lookup(first)
        assert invitation_lookup(second).pk == invitation.pk
        assert events(org, "invitation.resent").count() == 1

    def test_revoke_is_idempotent(self, org, admin_user):
        invitation, _ = invitation_create(org=org, email="p@example.com", actor=admin_user)
        invitation_revoke(org=org, invitation=invitation, actor=admin_user)
        invitation_revoke(org=org, invitation=invitation, actor=admin_user)
        assert events(org, "invitation.revoked").count() == 1

    def test_revoking_another_orgs_invitation_is_not_found(self, org, other_org, outsider, admin_user):
        foreign, _ = invitation_create(org=other_org, email="p@example.com", actor=outsider)
        with pytest.raises(ServiceError):
            invitation_revoke(org=org, invitation=foreign, actor=admin_user)
        foreign.refresh_from_db()
        assert foreign.status == "pending"

    def test_policy_block_refuses_create_and_accept(self, org, admin_user, monkeypatch):
        _, token = invitation_create(org=org, email="p@example.com", actor=admin_user)
        from orgs import policy

        monkeypatch.setattr(policy._invitation_blocks, "_checks", [lambda o: "Membership comes through SSO."])
        with pytest.raises(NotAllowed):
            invitation_create(org=org, email="q@example.com", actor=admin_user)
        with pytest.raises(InvitationInvalid) as exc:
            invitation_accept(token=token, user=make_user("p@example.com"))
        assert exc.value.code == "invitations_disabled"


class TestCredentials:
    def test_service_token_stores_only_a_hash_and_takes_creator_role(self, org, member):
        token, secret = service_token_create(org=org, name="deploy", actor=member.user)
        assert secret.startswith("ghst_") and secret not in token.token_hash and len(token.token_hash) == 64
        assert token.role == Role.MEMBER and token.prefix == secret[:10]
        assert service_token_authenticate(secret) == token
        assert service_token_authenticate(secret + "x") is None
        assert service_token_authenticate("") is None

    def test_service_token_authentication_is_one_query(self, org, member, django_assert_max_num_queries):
        _, secret = service_token_create(org=org, name="deploy", actor=member.user)
        service_token_authenticate(secret)  # stamps last_used_at
        with django_assert_max_num_queries(1):
            assert service_token_authenticate(secret) is not None

    def test_revoked_token_stops(self, org, member):
        token, secret = service_token_create(org=org, name="deploy", actor=member.user)
        service_token_revoke(org=org, token=token, actor=None)
        service_token_revoke(org=org, token=token, actor=None)
        assert service_token_authenticate(secret) is None
        assert events(org, "service_token.revoked").count() == 1

    def test_non_member_cannot_create_a_token(self, org, outsider):
        with pytest.raises(NotAllowed):
            service_token_create(org=org, name="x", actor=outsider)
        assert not ServiceToken.objects.exists()

    def test_duplicate_names_conflict(self, org, member):
        database = database_create(org=org, name="orders", actor=member.user)
        with pytest.raises(Conflict):
            database_create(org=org, name="Orders", actor=member.user)
        database_password_create(org=org, database=database, name="app", access="read_only", actor=member.user)
        with pytest.raises(Conflict):
            database_password_create(org=org, database=database, name="app", access="read_only",
                                     actor=member.user)
        service_token_create(org=org, name="t", actor=member.user)
        with pytest.raises(Conflict):
            service_token_create(org=org, name="t", actor=member.user)

    def test_bad_password_access_refused(self, org, member):
        database = database_create(org=org, name="orders", actor=member.user)
        with pytest.raises(ServiceError):
            database_password_create(org=org, database=database, name="x", access="superuser", actor=member.user)

    def test_password_for_another_orgs_database_is_refused(self, org, other_org, outsider, member):
        foreign = database_create(org=other_org, name="secret", actor=outsider)
        with pytest.raises(ServiceError):
            database_password_create(org=org, database=foreign, name="x", access="read_only", actor=member.user)

    def test_password_revoke_is_idempotent_and_audited(self, org, member):
        database = database_create(org=org, name="orders", actor=member.user)
        password, _ = database_password_create(org=org, database=database, name="x", access="read_only",
                                               actor=member.user)
        database_password_revoke(org=org, password=password, actor=None)
        database_password_revoke(org=org, password=password, actor=None)
        assert events(org, "database_password.revoked").count() == 1


class TestAuditLog:
    def test_events_are_append_only(self, org):
        event = AuditEvent.objects.filter(org=org).first()
        event.event = "forged"
        with pytest.raises(ValueError):
            event.save()
        with pytest.raises(ValueError):
            event.delete()
