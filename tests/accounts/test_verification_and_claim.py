"""E14, the accounts and organizations side: sign-up verifies the address by a one-time
link before the account can accept an invitation; an unclaimed account (made by an
organization's IdP or directory for an address that organization did not verify) is
invisible to sign-up and claimed by its owner through sign-up or password reset, which
ends every membership it had before the owner sets a password. Through HTTP."""
import re
import time
from unittest import mock

import pytest
from django.core import mail
from django.test import Client

from accounts.models import User
from accounts.policy import password_signin_refusal
from accounts.tokens import EmailLinkPurpose, email_link_token
from config.errors import ServiceError
from orgs.models import AuditEvent, Invitation, Membership, ServiceToken
from orgs.services import (invitation_accept, invitation_create, membership_add, organization_create,
                           service_token_create)
from tests.conftest import PASSWORD, client_for, make_user

pytestmark = pytest.mark.django_db
NEW_PASSWORD = "a sturdy passphrase 42"
VERIFY, CLAIM = EmailLinkPurpose.VERIFY, EmailLinkPurpose.CLAIM


@pytest.fixture(autouse=True)
def _base_url(settings):
    settings.BASE_URL = "https://gatehouse.example"


def _link(message, kind: str) -> str:
    """The path of the `kind` link ("verify-email" or "claim") in an email, built from BASE_URL."""
    found = re.search(rf"https://gatehouse\.example(/accounts/{kind}/[^/\s]+/(?:\?\S+)?)", message.body)
    assert found, message.body
    return found.group(1)


def _sign_up(client, email="new@example.com", **extra):
    return client.post("/accounts/signup/", {"email": email, "first_name": "New", "last_name": "Person",
                                             "password": NEW_PASSWORD, **extra})


def _password_sign_in(email, password):
    client = Client()
    response = client.post("/accounts/login/", {"username": email, "password": password})
    return client, response


# Sign-up verifies the address ------------------------------------------------------------


def test_sign_up_signs_in_unverified_and_mails_a_verification_link(client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = _sign_up(client)
    assert response.status_code == 302 and response["Location"] == "/accounts/verify-email/"
    user = User.objects.get(email="new@example.com")
    assert user.email_verified_at is None and user.claimed
    assert int(client.session["_auth_user_id"]) == user.pk
    page = client.get(response["Location"]).content.decode()
    assert "Check your email" in page and "new@example.com" in page
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["new@example.com"]
    link = _link(mail.outbox[0], "verify-email")
    # The banner on other pages offers the link again.
    assert "Confirm your email address" in client.get("/orgs/new/").content.decode()

    # A GET (what a mail scanner does) only shows the button; the POST verifies.
    confirm = Client().get(link)
    assert confirm.status_code == 200 and "Verify new@example.com" in confirm.content.decode()
    user.refresh_from_db()
    assert user.email_verified_at is None
    verified = Client().post(link)
    assert verified.status_code == 302
    user.refresh_from_db()
    assert user.email_verified_at is not None
    assert "Confirm your email address" not in client.get("/orgs/new/").content.decode()

    # Once used, the link is spent.
    assert Client().get(link).status_code == 400
    again = Client().post(link)
    assert again.status_code == 400 and "already been used" in again.content.decode()


def test_an_expired_tampered_or_foreign_link_verifies_nothing(db):
    user = make_user("new@example.com", email_verified_at=None)
    with mock.patch("time.time", return_value=time.time() - 4 * 24 * 3600):  # EMAIL_LINK_TTL_DAYS is 3
        expired = email_link_token(user, VERIFY)
    token = email_link_token(user, VERIFY)
    tampered = token[:-1] + ("A" if token[-1] != "A" else "B")
    for bad in (expired, tampered, email_link_token(user, CLAIM), "not-a-token"):
        response = Client().post(f"/accounts/verify-email/{bad}/")
        assert response.status_code == 400 and "invalid, has expired" in response.content.decode()
    user.refresh_from_db()
    assert user.email_verified_at is None
    assert Client().post(f"/accounts/verify-email/{token}/").status_code == 302
    user.refresh_from_db()
    assert user.email_verified_at is not None


def test_resend_is_limited_to_one_a_minute(django_capture_on_commit_callbacks, settings):
    # The window as a real one (it lives in the cache: Redis in CI, where moving time.time
    # does not expire a key), shortened to a second.
    settings.EMAIL_LINK_RESEND_SECONDS = 1
    user = make_user("new@example.com", email_verified_at=None)
    client = client_for(user)
    with django_capture_on_commit_callbacks(execute=True):
        first = client.post("/accounts/verify-email/")
        too_soon = client.post("/accounts/verify-email/", follow=True)
    assert first.status_code == 302
    assert "a moment ago" in too_soon.content.decode()
    assert len(mail.outbox) == 1
    time.sleep(1.1)
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/accounts/verify-email/")
    assert len(mail.outbox) == 2
    # Both links are for the same state, so either verifies; then neither works again.
    first_link, second_link = (_link(m, "verify-email") for m in mail.outbox)
    assert Client().post(second_link).status_code == 302
    assert Client().post(first_link).status_code == 400
    # A verified account is sent nothing.
    time.sleep(1.1)
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/accounts/verify-email/")
    assert len(mail.outbox) == 2


def test_a_password_reset_link_that_sets_a_password_verifies_the_address(django_capture_on_commit_callbacks):
    user = make_user("new@example.com", email_verified_at=None)
    client = Client()
    client.post("/accounts/password-reset/", {"email": user.email})
    link = re.search(r"https://gatehouse\.example(/accounts/reset/\S+/)", mail.outbox[0].body).group(1)
    form_url = client.get(link)["Location"]
    response = client.post(form_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.email_verified_at is not None and user.check_password(NEW_PASSWORD)


def test_the_operator_command_makes_verified_accounts(db):
    from django.core.management import call_command

    call_command("create_user", "ops@example.com", "--password", NEW_PASSWORD)
    assert User.objects.get(email="ops@example.com").email_verified_at is not None
    assert User.objects.create_user("neutral@example.com").email_verified_at is None  # JIT and SCIM decide


# Invitations need a verified address -----------------------------------------------------


def test_an_unverified_account_accepts_an_invitation_only_after_verifying(
        org, admin_user, django_capture_on_commit_callbacks):
    _invitation, token = invitation_create(org=org, email="new@example.com", actor=admin_user)
    user = make_user("new@example.com", email_verified_at=None)
    with pytest.raises(ServiceError) as refused:
        invitation_accept(token=token, user=user)
    assert refused.value.code == "email_unverified"

    client = client_for(user)
    here = f"/invitations/{token}/"
    page = client.get(here).content.decode()
    assert "Verify your email first" in page and "Send the link again" in page and "Accept invitation" not in page
    response = client.post(here)
    assert response.status_code == 403 and "Verify your email first" in response.content.decode()
    assert not Membership.objects.filter(org=org, user=user).exists()
    assert Invitation.objects.get(org=org, email="new@example.com").status == Invitation.Status.PENDING

    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        resent = client.post("/accounts/verify-email/", {"next": here})
    assert resent.status_code == 302 and resent["Location"] == here
    link = _link(mail.outbox[0], "verify-email")
    verified = client.post(link)
    assert verified.status_code == 302 and verified["Location"] == here  # back to the invitation
    assert "Accept invitation" in client.get(here).content.decode()
    assert client.post(here).status_code == 302
    assert Membership.objects.filter(org=org, user=user).exists()


def test_sign_up_through_an_invitation_link_is_verified_by_it(client, org, admin_user,
                                                              django_capture_on_commit_callbacks):
    _invitation, token = invitation_create(org=org, email="new@example.com", actor=admin_user)
    next_path = f"/invitations/{token}/"
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = _sign_up(client, next=next_path)
    assert response.status_code == 302 and response["Location"] == next_path
    assert User.objects.get(email="new@example.com").email_verified_at is not None
    assert not mail.outbox  # no verification link: the invitation reached the mailbox
    assert client.post(next_path).status_code == 302
    assert Membership.objects.filter(org=org, user__email="new@example.com").exists()


def test_sign_up_with_a_spent_invitation_link_still_needs_verifying(client, org, admin_user,
                                                                    django_capture_on_commit_callbacks):
    invitation, token = invitation_create(org=org, email="new@example.com", actor=admin_user)
    Invitation.objects.filter(pk=invitation.pk).update(status=Invitation.Status.REVOKED)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        _sign_up(client, next=f"/invitations/{token}/")
    assert User.objects.get(email="new@example.com").email_verified_at is None
    assert len(mail.outbox) == 1 and "/accounts/verify-email/" in mail.outbox[0].body


# Claiming an unclaimed account -----------------------------------------------------------


@pytest.fixture
def squatted(org, admin_user):
    """An account a stranger's IdP made for victim@victim.test: a directory-managed member
    of Acme and the only administrator of Squat, which it made a service token in."""
    victim = make_user("victim@victim.test", None, claimed=False, email_verified_at=None)
    membership_add(org=org, user=victim, actor=None, directory_managed=True)
    squat = organization_create(slug="squat", name="Squat", creator=victim)
    token, _secret = service_token_create(org=squat, name="ci", actor=victim)
    return victim, squat, token


def _claim_and_set_password(link, victim, orgs, token, stranger_session=None):
    client = Client()
    confirm = client.get(link)
    assert confirm.status_code == 200 and "Claim this account" in confirm.content.decode()
    assert Membership.objects.filter(user=victim).count() == 2  # a GET changes nothing
    claimed = client.post(link)
    assert claimed.status_code == 302 and "/accounts/reset/" in claimed["Location"]

    victim.refresh_from_db()
    assert victim.claimed and victim.email_verified_at is not None
    assert not Membership.objects.filter(user=victim).exists()
    for org in orgs:
        [event] = [event for event in AuditEvent.objects.filter(org=org, event="member.removed",
                                                                target_label=victim.email)
                   if event.new == {"reason": "account_claimed"}]
        assert event.actor_label == "account owner"
    token.refresh_from_db()
    assert token.revoked_at is None  # credentials stay (E7)
    assert password_signin_refusal(victim) is None
    if stranger_session is not None:  # a session made while unclaimed ends with the claim
        stranger_session.get("/")
        assert "_auth_user_id" not in stranger_session.session

    form_url = client.get(claimed["Location"])["Location"]
    assert "set-password" in form_url
    done = client.post(form_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert done.status_code == 302
    signed_in, response = _password_sign_in(victim.email, NEW_PASSWORD)
    assert response.status_code == 302 and int(signed_in.session["_auth_user_id"]) == victim.pk
    # The link worked once.
    assert Client().post(link).status_code == 400


def test_sign_up_for_an_unclaimed_address_claims_it(client, org, squatted, django_capture_on_commit_callbacks):
    victim, squat, token = squatted
    stranger_session = client_for(victim)  # as a session the stranger's IdP made
    assert stranger_session.get("/orgs/new/").status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        response = _sign_up(client, email="Victim@victim.test")
    assert response.status_code == 200
    body = response.content.decode()
    assert "Check your email" in body and "already exists" not in body
    assert "_auth_user_id" not in client.session
    assert User.objects.filter(email="victim@victim.test").count() == 1
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["victim@victim.test"]
    assert "/accounts/reset/" not in mail.outbox[0].body

    _claim_and_set_password(_link(mail.outbox[0], "claim"), victim, [org, squat], token, stranger_session)


def test_password_reset_for_an_unclaimed_account_sends_its_claim_link_even_under_sso(
        org, admin_user, squatted, member_user, django_capture_on_commit_callbacks):
    from sso.services import sso_configure, sso_enable
    from tests.sso.idp import TestIdP

    victim, squat, token = squatted
    idp = TestIdP()
    sso_configure(org=org, actor=admin_user, idp_entity_id=idp.entity_id, idp_sso_url="https://idp.test/sso",
                  certificates=[idp.cert_pem], attribute_preset="okta")
    with django_capture_on_commit_callbacks(execute=True):
        sso_enable(org=org, actor=admin_user)
    membership_add(org=org, user=member_user, actor=None)  # a claimed member of the enforcing org
    membership_add(org=org, user=victim, actor=None, directory_managed=True)
    assert password_signin_refusal(victim) and password_signin_refusal(member_user)  # E11 holds both

    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        for email in (victim.email, member_user.email):
            assert Client().post("/accounts/password-reset/", {"email": email}).status_code == 302
    by_address = {message.to[0]: message for message in mail.outbox}
    assert len(mail.outbox) == 2
    claim_mail, refusal_mail = by_address[victim.email], by_address[member_user.email]
    assert claim_mail.to == [victim.email] and "/accounts/claim/" in claim_mail.body
    assert refusal_mail.to == [member_user.email]
    assert "/accounts/reset/" not in refusal_mail.body and "single sign-on" in refusal_mail.body

    _claim_and_set_password(_link(claim_mail, "claim"), victim, [org, squat], token)


def test_no_other_link_sets_a_password_on_an_unclaimed_account(squatted):
    from django.contrib.auth.tokens import default_token_generator
    from django.utils.encoding import force_bytes
    from django.utils.http import urlsafe_base64_encode

    victim, _squat, _token = squatted
    uid = urlsafe_base64_encode(force_bytes(victim.pk))
    response = Client().get(f"/accounts/reset/{uid}/{default_token_generator.make_token(victim)}/", follow=True)
    assert "invalid or has already been used" in response.content.decode()
    # Nor does a verification link verify it: its owner claims it.
    assert Client().post(f"/accounts/verify-email/{email_link_token(victim, VERIFY)}/").status_code == 400
    victim.refresh_from_db()
    assert not victim.claimed and victim.email_verified_at is None and not victim.has_usable_password()
    assert Membership.objects.filter(user=victim).count() == 2


def test_a_claimed_accounts_sign_up_still_says_it_exists(client, member_user, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = _sign_up(client, email=member_user.email)
    assert response.status_code == 200 and "already exists" in response.content.decode()
    assert not mail.outbox and User.objects.filter(email=member_user.email).count() == 1
