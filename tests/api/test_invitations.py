"""Invitations through the API."""
import pytest
from django.core import mail

from orgs.models import AuditEvent, Invitation
from orgs.services import invitation_create

from .conftest import assert_error, org_url

pytestmark = pytest.mark.django_db


def _state(org):
    return list(Invitation.objects.filter(org=org).values_list("pk", "status", "token_hash")), \
        AuditEvent.objects.filter(org=org).count()


def test_admin_invites_and_token_is_not_returned(admin_api, org, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_api.post(org_url(org, "/invitations"), {"email": "  New@Acme.test ", "role": "admin"})
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["email"] == "new@acme.test" and body["role"] == "admin" and body["status"] == "pending"
    assert body["invited_by"] == "ada@acme.test"
    assert not any("token" in key for key in body)
    assert len(mail.outbox) == 1 and "/invitations/" in mail.outbox[0].body
    # The link's token is in the email only; the response does not contain it.
    assert mail.outbox[0].body.split("/invitations/")[1].split("/")[0] not in response.content.decode()


def test_list_and_filter_invitations(member_api, org, admin_user):
    pending, _ = invitation_create(org=org, email="a@x.test", actor=admin_user)
    revoked, _ = invitation_create(org=org, email="b@x.test", actor=admin_user)
    from orgs.services import invitation_revoke

    invitation_revoke(org=org, invitation=revoked, actor=admin_user)
    assert [r["id"] for r in member_api.get(org_url(org, "/invitations")).json()["results"]] == [pending.pk]
    assert [r["id"] for r in member_api.get(org_url(org, "/invitations"), {"status": "revoked"}).json()["results"]] \
        == [revoked.pk]
    assert member_api.get(org_url(org, "/invitations"), {"status": "all"}).json()["count"] == 2
    assert_error(member_api.get(org_url(org, "/invitations"), {"status": "bogus"}), 400, "invalid")


@pytest.mark.parametrize("body,code", [
    ({"email": "not-an-email"}, "invalid"),
    ({"email": ""}, "invalid"),
    ({}, "invalid"),
    ({"email": "x@y.test", "role": "owner"}, "invalid"),
    ({"email": "x@y.test", "token": "mine"}, "unknown_field"),
])
def test_bad_invitation_input(admin_api, org, body, code):
    before = _state(org)
    assert_error(admin_api.post(org_url(org, "/invitations"), body), 400, code)
    assert _state(org) == before


def test_duplicate_invitation_and_existing_member_are_409(admin_api, org, member):
    assert admin_api.post(org_url(org, "/invitations"), {"email": "dup@acme.test"}).status_code == 201
    before = _state(org)
    assert_error(admin_api.post(org_url(org, "/invitations"), {"email": "DUP@acme.test"}), 409, "already_invited")
    assert_error(admin_api.post(org_url(org, "/invitations"), {"email": "max@acme.test"}), 409, "already_member")
    assert _state(org) == before


def test_member_cannot_invite_revoke_or_resend(member_api, org, admin_user):
    invitation, _ = invitation_create(org=org, email="a@x.test", actor=admin_user)
    before = _state(org)
    assert_error(member_api.post(org_url(org, "/invitations"), {"email": "b@x.test"}), 403)
    assert_error(member_api.delete(org_url(org, f"/invitations/{invitation.pk}")), 403)
    assert_error(member_api.post(org_url(org, f"/invitations/{invitation.pk}/resend")), 403)
    assert _state(org) == before


def test_revoke_and_resend(admin_api, org, admin_user, django_capture_on_commit_callbacks):
    invitation, _ = invitation_create(org=org, email="a@x.test", actor=admin_user)
    old_hash = invitation.token_hash
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_api.post(org_url(org, f"/invitations/{invitation.pk}/resend"))
    assert response.status_code == 200
    invitation.refresh_from_db()
    assert invitation.token_hash != old_hash and len(mail.outbox) == 1
    response = admin_api.delete(org_url(org, f"/invitations/{invitation.pk}"))
    assert response.status_code == 200 and response.json()["status"] == "revoked"
    # Re-sending a revoked invitation is a conflict, and changes nothing.
    before = _state(org)
    assert_error(admin_api.post(org_url(org, f"/invitations/{invitation.pk}/resend")), 409, "invitation_not_pending")
    assert _state(org) == before


def test_resend_refuses_a_body(admin_api, org, admin_user):
    invitation, _ = invitation_create(org=org, email="a@x.test", actor=admin_user)
    assert_error(admin_api.post(org_url(org, f"/invitations/{invitation.pk}/resend"), {"email": "z@z.test"}), 400,
                 "unknown_field")


def test_other_orgs_invitations_are_invisible(admin_api, org, other_world):
    other = other_world["invitation"]
    assert admin_api.get(org_url(org, "/invitations"), {"status": "all"}).json()["count"] == 0
    assert_error(admin_api.get(org_url(org, f"/invitations/{other.pk}")), 404)
    assert_error(admin_api.delete(org_url(org, f"/invitations/{other.pk}")), 404)
    assert_error(admin_api.post(org_url(org, f"/invitations/{other.pk}/resend")), 404)
    assert Invitation.objects.get(pk=other.pk).status == "pending"
    assert_error(admin_api.get(org_url(other_world["org"], "/invitations")), 404)
