"""E2 holds for operators too: Django admin's login page sends them to the one sign-in form."""
import pytest

from orgs.models import Membership
from orgs.services import membership_add
from sso.models import SSOIdentity
from sso.services import SSOLoginRefused, sso_login
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def test_E2_admin_login_page_is_the_sign_in_form(client, org, enabled, admin_user, member_user):
    # An SSO-only account (E11) cannot reach the admin's own login form either.
    membership_add(org=org, user=member_user, role=Membership.Role.MEMBER, actor=None)
    response = client.get("/admin/login/?next=/admin/orgs/")
    assert response.status_code == 302 and response["Location"] == "/accounts/login/?next=/admin/orgs/"
    posted = client.post("/admin/login/", {"username": member_user.email, "password": PASSWORD,
                                           "next": "/admin/"})
    assert posted.status_code == 302 and posted["Location"].startswith("/accounts/login/")
    assert "_auth_user_id" not in client.session
    refused = client.post("/accounts/login/?next=/admin/", {"username": member_user.email, "password": PASSWORD})
    assert b"requires single sign-on" in refused.content and "_auth_user_id" not in client.session
    assert client.get("/admin/").status_code == 302  # still signed out


def test_an_idp_never_signs_in_an_operator(client, org, enabled, admin_user):
    """Staff rights come only from a password session: the IdP is refused, the password is not."""
    admin_user.is_staff = admin_user.is_superuser = True
    admin_user.save(update_fields=["is_staff", "is_superuser"])
    with pytest.raises(SSOLoginRefused) as refused:
        sso_login(org=org, name_id="ada@acme.test", attributes={"email": ["ada@acme.test"]})
    assert refused.value.code == "staff_account"
    assert not SSOIdentity.objects.filter(user=admin_user).exists()
    assert client.post("/accounts/login/?next=/admin/", {"username": "ada@acme.test",
                                                         "password": PASSWORD}).status_code == 302
    assert client.get("/admin/").status_code == 200


def test_operator_without_sso_signs_in_to_admin_through_the_sign_in_form(client, db):
    from tests.conftest import make_user

    make_user("operator@gatehouse.test", is_staff=True, is_superuser=True)
    response = client.post("/accounts/login/?next=/admin/", {"username": "operator@gatehouse.test",
                                                             "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200
