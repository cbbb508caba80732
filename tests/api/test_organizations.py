"""/user and /organizations."""
import pytest

from orgs.services import membership_add

from .conftest import API, assert_error, org_url

pytestmark = pytest.mark.django_db


def test_organizations_of_a_session(admin_api, org, admin_user, other_org, outsider):
    assert [o["slug"] for o in admin_api.get(f"{API}/organizations").json()["results"]] == ["acme"]
    membership_add(org=other_org, user=admin_user, role="member", actor=outsider)
    body = admin_api.get(f"{API}/organizations").json()
    assert body["count"] == 2
    assert [(o["slug"], o["role"], o["plan"], o["sso_available"]) for o in body["results"]] == [
        ("acme", "admin", "enterprise", True), ("other", "member", "hobby", False)]


def test_organization_detail(member_api, org):
    body = member_api.get(org_url(org)).json()
    assert body["slug"] == "acme" and body["name"] == "Acme" and body["role"] == "member"


def test_organizations_of_a_token(admin_token_api, org):
    body = admin_token_api.get(f"{API}/organizations").json()
    assert body["count"] == 1 and body["results"][0]["slug"] == "acme" and body["results"][0]["role"] == "admin"


def test_outsider_sees_only_own_organization(outsider_api, org, other_org):
    assert [o["slug"] for o in outsider_api.get(f"{API}/organizations").json()["results"]] == ["other"]
    assert_error(outsider_api.get(org_url(org)), 404)
    body = outsider_api.get(f"{API}/user").json()
    assert [o["slug"] for o in body["organizations"]] == ["other"]


def test_user_without_organizations(db):
    from django.test import Client

    from accounts.models import User

    client = Client()
    client.force_login(User.objects.create_user("lonely@x.test"), backend="accounts.backends.EmailBackend")
    body = client.get(f"{API}/user").json()
    assert body["organizations"] == [] and body["token"] is None and body["user"]["email"] == "lonely@x.test"


def test_write_methods_on_read_only_endpoints_are_405(admin_api, org):
    assert_error(admin_api.post(f"{API}/user", {}), 405)
    assert_error(admin_api.post(f"{API}/organizations", {"slug": "x"}), 405)
    assert_error(admin_api.delete(org_url(org)), 405)


def test_an_organization_whose_access_ended_is_left_out_of_the_callers_lists(member_api, org, member, member_user,
                                                                             admin_user, other_org, outsider):
    # E1: the SSO enable ends the member's access at once, before its job removes the membership;
    # the API's lists then say what the switcher says (orgs.selectors.organizations_of).
    from orgs.models import Membership
    from orgs.selectors import organizations_of
    from sso.services import sso_configure, sso_enable
    from tests.sso.idp import TestIdP

    membership_add(org=other_org, user=member_user, role="member", actor=outsider)
    idp = TestIdP()
    sso_configure(org=org, actor=admin_user, idp_entity_id=idp.entity_id, idp_sso_url="https://idp.test/sso",
                  certificates=[idp.cert_pem])
    sso_enable(org=org, actor=admin_user)  # its removal job is queued on commit: not run here
    assert Membership.objects.filter(org=org, user=member_user).exists()
    assert list(organizations_of(member_user)) == [other_org]

    body = member_api.get(f"{API}/organizations").json()
    assert body["count"] == 1 and [o["slug"] for o in body["results"]] == ["other"]
    assert [o["slug"] for o in member_api.get(f"{API}/user").json()["organizations"]] == ["other"]
