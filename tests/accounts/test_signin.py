"""Password sign-in, sign-up, reset and the per-account / per-IP sign-in rate limit."""
import pytest
from django.core import mail
from django.test import Client

from accounts import policy
from accounts.models import User
from tests.conftest import PASSWORD, make_user


def sign_in(client, email, password=PASSWORD, ip="10.0.0.1"):
    return client.post("/accounts/login/", {"username": email, "password": password}, REMOTE_ADDR=ip)


def test_sign_in_is_case_insensitive_and_rotates_the_session(admin_user):
    client = Client()
    client.get("/accounts/login/")
    client.session.save()
    before = client.session.session_key
    response = sign_in(client, "ADA@Acme.Test")
    assert response.status_code == 302
    assert client.session.session_key != before
    assert int(client.session["_auth_user_id"]) == admin_user.pk


def test_wrong_password_is_a_form_error(admin_user):
    response = sign_in(Client(), "ada@acme.test", "wrong")
    assert response.status_code == 200
    assert b"please enter a correct email and password" in response.content.lower()
    assert "_auth_user_id" not in response.client.session


def test_lockout_per_account_and_address_after_repeated_failures(admin_user, settings):
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, "ada@acme.test", "wrong", ip="10.0.1.1")
    response = sign_in(client, "ada@acme.test", PASSWORD, ip="10.0.1.1")
    assert response.status_code == 429
    assert b"Too many sign-in attempts" in response.content and b"/accounts/password-reset/" in response.content
    assert "_auth_user_id" not in client.session


def test_failures_from_elsewhere_do_not_lock_the_owner_out(admin_user, settings):
    """Issue 10: wrong passwords for an account from other addresses (one each, under the
    per-address limit) do not lock its owner out of their own address."""
    for attempt in range(settings.AXES_FAILURE_LIMIT + 1):
        sign_in(Client(), "ada@acme.test", "wrong", ip=f"10.0.1.{attempt}")
    assert sign_in(Client(), "ada@acme.test", PASSWORD, ip="10.0.2.1").status_code == 302


def test_lockout_per_ip_across_accounts(db, settings):
    for i in range(settings.AXES_FAILURE_LIMIT):
        make_user(f"u{i}@example.com")
        sign_in(Client(), f"u{i}@example.com", "wrong", ip="10.9.9.9")
    victim = make_user("fresh@example.com")
    response = sign_in(Client(), victim.email, PASSWORD, ip="10.9.9.9")
    assert response.status_code == 429
    assert sign_in(Client(), victim.email, PASSWORD, ip="10.9.9.10").status_code == 302


def test_a_registered_policy_refuses_password_sign_in(admin_user, monkeypatch):
    monkeypatch.setattr(policy._password_signin_checks, "_checks", [lambda user: "Use SSO to sign in."])
    response = sign_in(Client(), "ada@acme.test")
    assert response.status_code == 200 and b"Use SSO to sign in." in response.content


def test_sign_up_creates_an_account_and_signs_in(db):
    client = Client()
    response = client.post("/accounts/signup/", {"email": "New@Example.com", "first_name": "N", "last_name": "P",
                                                 "password": "a sturdy passphrase 42", "next": "//evil.example"})
    # "Check your email" (E14); the unsafe next is dropped.
    assert response.status_code == 302 and response["Location"] == "/accounts/verify-email/"
    assert User.objects.get(email="new@example.com").check_password("a sturdy passphrase 42")


@pytest.mark.parametrize("data", [
    {"email": "ada@acme.test", "password": "a sturdy passphrase 42"},  # taken
    {"email": "not-an-email", "password": "a sturdy passphrase 42"},
    {"email": "weak@example.com", "password": "123"},
])
def test_sign_up_bad_input(admin_user, data):
    response = Client().post("/accounts/signup/", data)
    assert response.status_code == 200
    assert User.objects.count() == 1


def test_password_reset_reaches_accounts_without_a_password(db, settings):
    settings.BASE_URL = "https://gatehouse.example"
    User.objects.create_user("jit@example.com", None)
    response = Client().post("/accounts/password-reset/", {"email": "JIT@example.com"},
                             HTTP_HOST="evil.example")
    assert response.status_code in (302, 400)
    if response.status_code == 400:  # evil Host refused outright by ALLOWED_HOSTS
        response = Client().post("/accounts/password-reset/", {"email": "JIT@example.com"})
    assert len(mail.outbox) == 1
    body = mail.outbox[0].body
    assert "https://gatehouse.example/accounts/reset/" in body and "evil.example" not in body


def test_password_reset_for_unknown_email_says_nothing(db):
    response = Client().post("/accounts/password-reset/", {"email": "ghost@example.com"})
    assert response.status_code == 302 and not mail.outbox


def test_logout_is_post_only(admin_client):
    assert admin_client.get("/accounts/logout/").status_code == 405
    assert admin_client.post("/accounts/logout/").status_code == 302
