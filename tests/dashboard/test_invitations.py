"""Settings › Invitations and the acceptance page /invitations/<token>/."""
import re
from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from accounts.models import User
from orgs import policy
from orgs.models import AuditEvent, Invitation, Membership
from orgs.services import invitation_create, invitation_revoke
from tests.conftest import PASSWORD, client_for, make_user

URL = "/orgs/acme/settings/invitations/"


def link_token(message) -> str:
    return re.search(r"/invitations/([^/\s]+)/", message.body).group(1)


@pytest.mark.django_db
def test_admin_invites_and_the_email_goes_out(admin_client, org, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(URL, {"email": "New.Person@Example.com", "role": "admin"})
    assert response.status_code == 302
    invitation = Invitation.objects.get(org=org, email="new.person@example.com")
    assert invitation.role == "admin" and invitation.status == "pending"
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["new.person@example.com"]
    body = admin_client.get(URL).content.decode()
    assert "new.person@example.com" in body and "Invitation sent" in body and "Ada Admin" not in body
    assert "ada@acme.test" in body  # inviter


@pytest.mark.django_db
@pytest.mark.parametrize("data, message", [
    ({"email": "not-an-email", "role": "member"}, "valid email"),
    ({"email": "x@example.com", "role": "owner"}, "valid choice"),
    ({"email": "", "role": "member"}, "required"),
])
def test_bad_invitation_input_is_400_and_creates_nothing(admin_client, org, data, message):
    response = admin_client.post(URL, data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Invitation.objects.filter(org=org).exists()


@pytest.mark.django_db
def test_inviting_a_member_or_twice_is_a_conflict(admin_client, org, member):
    response = admin_client.post(URL, {"email": "max@acme.test", "role": "member"})
    assert response.status_code == 409 and "already a member" in response.content.decode()
    admin_client.post(URL, {"email": "twice@example.com", "role": "member"})
    response = admin_client.post(URL, {"email": "twice@example.com", "role": "member"})
    assert response.status_code == 409 and "re-send it instead" in response.content.decode()
    assert Invitation.objects.filter(org=org).count() == 1


@pytest.mark.django_db
def test_member_can_list_but_not_invite_or_revoke(member_client, member, org, admin_user):
    invitation, _ = invitation_create(org=org, email="pending@example.com", actor=admin_user)
    body = member_client.get(URL).content.decode()
    assert "pending@example.com" in body and "Send invitation" not in body
    assert member_client.post(URL, {"email": "y@example.com", "role": "member"}).status_code == 403
    assert member_client.post(f"{URL}{invitation.pk}/revoke/").status_code == 403
    assert member_client.post(f"{URL}{invitation.pk}/resend/").status_code == 403
    invitation.refresh_from_db()
    assert invitation.status == "pending" and Invitation.objects.filter(org=org).count() == 1


@pytest.mark.django_db
def test_revoke_and_resend(admin_client, org, admin_user, django_capture_on_commit_callbacks):
    invitation, first_token = invitation_create(org=org, email="later@example.com", actor=admin_user)
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(f"{URL}{invitation.pk}/resend/")
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    new_token = link_token(mail.outbox[0])
    assert new_token != first_token
    # The old link stops working, the new one works.
    assert Client().get(f"/invitations/{first_token}/").status_code == 404
    assert Client().get(f"/invitations/{new_token}/").status_code == 200
    response = admin_client.post(f"{URL}{invitation.pk}/revoke/")
    assert response.status_code == 302
    invitation.refresh_from_db()
    assert invitation.status == "revoked"
    assert 'data-invitation="later@example.com"' not in admin_client.get(URL).content.decode()
    # Re-sending a revoked invitation: a clear 409, not a 500.
    response = admin_client.post(f"{URL}{invitation.pk}/resend/")
    assert response.status_code == 409 and "only a pending one" in response.content.decode()


@pytest.mark.django_db
def test_block_reason_replaces_the_form(admin_client, org):
    def block(o):
        return "Invitations are disabled while SSO is enforced." if o.pk == org.pk else None

    policy.register_invitation_block(block)
    try:
        body = admin_client.get(URL).content.decode()
        assert "Invitations are disabled while SSO is enforced." in body
        assert "Send invitation" not in body
        response = admin_client.post(URL, {"email": "z@example.com", "role": "member"})
        assert response.status_code == 403
        assert not Invitation.objects.filter(org=org).exists()
    finally:
        policy._invitation_blocks._checks.remove(block)


# Accepting -------------------------------------------------------------------


@pytest.fixture
def invited(org, admin_user):
    invitation, token = invitation_create(org=org, email="invitee@example.com", role="member", actor=admin_user)
    return invitation, token


@pytest.mark.django_db
def test_anonymous_sees_the_invitation_and_sign_up_link(client, invited):
    invitation, token = invited
    response = client.get(f"/invitations/{token}/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "Join Acme" in body and "Ada Admin" in body and "Organization Member" in body
    assert f"/accounts/signup/?next=%2Finvitations%2F{token}%2F" in body


@pytest.mark.django_db
def test_existing_account_signs_in_and_accepts(client, invited, org):
    invitation, token = invited
    make_user("invitee@example.com")
    body = client.get(f"/invitations/{token}/").content.decode()
    assert "Sign in to accept" in body
    response = client.post("/accounts/login/", {"username": "invitee@example.com", "password": PASSWORD,
                                                "next": f"/invitations/{token}/"})
    assert response.status_code == 302 and response["Location"] == f"/invitations/{token}/"
    assert "Accept invitation" in client.get(f"/invitations/{token}/").content.decode()
    response = client.post(f"/invitations/{token}/")
    assert response.status_code == 302 and response["Location"] == "/orgs/acme/settings/members/"
    assert Membership.objects.filter(org=org, user__email="invitee@example.com", role="member").exists()
    invitation.refresh_from_db()
    assert invitation.status == "accepted"
    assert AuditEvent.objects.filter(org=org, event="invitation.accepted").exists()
    # Used: a clear error page, not a 500.
    response = client.get(f"/invitations/{token}/")
    assert response.status_code == 400 and "already been used" in response.content.decode()
    assert client.post(f"/invitations/{token}/").status_code == 400


@pytest.mark.django_db
def test_new_account_signs_up_with_the_invited_email_locked(client, invited, org):
    invitation, token = invited
    next_path = f"/invitations/{token}/"
    page = client.get("/accounts/signup/", {"next": next_path}).content.decode()
    assert 'value="invitee@example.com"' in page and "disabled" in page
    assert "To accept the invitation to <strong>Acme</strong>" in page
    # A different email in the POST is ignored: the field is locked to the invitation.
    response = client.post(f"/accounts/signup/?next={next_path}", {
        "email": "someone.else@example.com", "password": "a long enough passphrase 42", "first_name": "Ivy",
        "last_name": "", "next": next_path,
    })
    assert response.status_code == 302 and response["Location"] == next_path
    assert User.objects.filter(email="invitee@example.com").exists()
    assert not User.objects.filter(email="someone.else@example.com").exists()
    response = client.post(next_path)
    assert response.status_code == 302
    assert Membership.objects.filter(org=org, user__email="invitee@example.com").exists()


@pytest.mark.django_db
def test_wrong_account_gets_403_and_nothing_changes(invited, org, outsider):
    invitation, token = invited
    client = client_for(outsider)
    response = client.get(f"/invitations/{token}/")
    assert response.status_code == 403 and "This invitation is for invitee@example.com" in response.content.decode()
    response = client.post(f"/invitations/{token}/")
    assert response.status_code == 403
    assert not Membership.objects.filter(org=org, user=outsider).exists()
    invitation.refresh_from_db()
    assert invitation.status == "pending"


@pytest.mark.django_db
def test_expired_revoked_and_unknown_tokens(client, invited, org, admin_user):
    invitation, token = invited
    response = client.get("/invitations/ghi_not-a-real-token/")
    assert response.status_code == 404 and "not valid" in response.content.decode()
    Invitation.objects.filter(pk=invitation.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    response = client.get(f"/invitations/{token}/")
    assert response.status_code == 400 and "expired" in response.content.decode()
    revoked, revoked_token = invitation_create(org=org, email="gone@example.com", actor=admin_user)
    invitation_revoke(org=org, invitation=revoked, actor=admin_user)
    response = client.get(f"/invitations/{revoked_token}/")
    assert response.status_code == 400 and "withdrawn" in response.content.decode()
    user = make_user("gone@example.com")
    response = client_for(user).post(f"/invitations/{revoked_token}/")
    assert response.status_code == 400
    assert not Membership.objects.filter(org=org, user=user).exists()


@pytest.mark.django_db
def test_anonymous_post_is_sent_to_sign_in(client, invited):
    _, token = invited
    response = client.post(f"/invitations/{token}/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/?next=")
