"""Password sign-in and SSO sign-in are told apart: django-axes (password attempts and
lock-outs) sees only the first."""
import pytest
from axes.models import AccessAttempt, AccessLog

from tests.conftest import PASSWORD

from .conftest import post_acs, start_login

pytestmark = pytest.mark.django_db


def test_sso_sign_in_neither_logs_a_password_access_nor_resets_failed_attempts(client, org, member, enabled, idp,
                                                                               member_user):
    assert client.post("/accounts/login/", {"username": member_user.email, "password": "wrong"}).status_code == 200
    assert AccessAttempt.objects.filter(username=member_user.email).get().failures_since_start == 1
    logs_before = AccessLog.objects.count()
    request_id, relay = start_login(client)
    response = post_acs(client, idp.encoded(org_slug="acme", name_id=member_user.email, in_response_to=request_id),
                        relay)
    assert response.status_code == 302 and client.session["_auth_user_id"] == str(member_user.pk)
    assert client.session["_auth_user_backend"] == "accounts.backends.IdentityProviderBackend"
    assert AccessLog.objects.count() == logs_before, list(AccessLog.objects.values("path_info", "username"))
    assert AccessAttempt.objects.filter(username=member_user.email).get().failures_since_start == 1


def test_password_sign_in_still_goes_through_axes(client, admin_user):
    assert client.post("/accounts/login/", {"username": admin_user.email, "password": PASSWORD}).status_code == 302
    assert AccessLog.objects.filter(username=admin_user.email).count() == 1
    assert client.session["_auth_user_backend"] == "accounts.backends.EmailBackend"
