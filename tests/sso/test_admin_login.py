"""E2 holds for operators too: Django admin's login page sends them to the one sign-in form."""
import pytest

from sso.services import sso_login
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def test_E2_admin_login_page_is_the_sign_in_form(client, org, enabled, admin_user):
    admin_user.is_staff = admin_user.is_superuser = True
    admin_user.save(update_fields=["is_staff", "is_superuser"])
    sso_login(org=org, name_id="ada@acme.test", attributes={"email": ["ada@acme.test"]})  # now SSO-only

    response = client.get("/admin/login/?next=/admin/orgs/")
    assert response.status_code == 302 and response["Location"] == "/accounts/login/?next=/admin/orgs/"
    posted = client.post("/admin/login/", {"username": "ada@acme.test", "password": PASSWORD,
                                           "next": "/admin/"})
    assert posted.status_code == 302 and posted["Location"].startswith("/accounts/login/")
    assert "_auth_user_id" not in client.session
    refused = client.post("/accounts/login/?next=/admin/", {"username": "ada@acme.test", "password": PASSWORD})
    assert b"requires single sign-on" in refused.content and "_auth_user_id" not in client.session
    assert client.get("/admin/").status_code == 302  # still signed out


def test_operator_without_sso_signs_in_to_admin_through_the_sign_in_form(client, db):
    from tests.conftest import make_user

    make_user("operator@gatehouse.test", is_staff=True, is_superuser=True)
    response = client.post("/accounts/login/?next=/admin/", {"username": "operator@gatehouse.test",
                                                             "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200
