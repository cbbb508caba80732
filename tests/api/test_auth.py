"""Authentication: bearer service tokens, sessions with CSRF, and the token rule."""
import pytest
from django.test import Client

from accounts.models import User
from orgs.models import Membership, ServiceToken
from orgs.services import membership_add, membership_change_role, membership_remove, service_token_revoke

from .conftest import API, JSONClient, assert_error, bearer_client, org_url

pytestmark = pytest.mark.django_db


def test_no_credentials_is_401_with_bearer_challenge(anon_api):
    response = anon_api.get(f"{API}/user")
    body = assert_error(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"] == "Bearer"
    assert "message" in body


def test_anonymous_org_url_is_401_not_404(anon_api, org):
    assert_error(anon_api.get(org_url(org, "/members")), 401)


@pytest.mark.parametrize("header", ["Bearer nonsense", "Bearer ghst_" + "x" * 43, "Bearer", "Bearer a b",
                                    "Bearer " + "y" * 500])
def test_bad_token_is_401(db, header):
    response = Client(headers={"Authorization": header}).get(f"{API}/user")
    assert_error(response, 401, "invalid_token")
    assert response["WWW-Authenticate"] == "Bearer"


def test_bad_token_does_not_fall_back_to_session(admin_client, org):
    admin_client.defaults["HTTP_AUTHORIZATION"] = "Bearer wrong"
    assert_error(admin_client.get(f"{API}/user"), 401, "invalid_token")


def test_revoked_token_is_401(org, admin_user, admin_token):
    token, secret = admin_token
    api = bearer_client(secret)
    assert api.get(f"{API}/user").status_code == 200
    service_token_revoke(org=org, token=token, actor=admin_user)
    response = api.get(org_url(org, "/members"))
    assert_error(response, 401, "invalid_token")
    assert response["WWW-Authenticate"] == "Bearer"


def test_token_identifies_itself_and_its_creator(admin_token_api, admin_token, org, admin_user):
    body = admin_token_api.get(f"{API}/user").json()
    token, _ = admin_token
    assert body["user"]["email"] == admin_user.email
    assert body["token"] == {"id": token.pk, "name": "admin ci", "organization": "acme", "role": "admin"}
    assert [(o["slug"], o["role"]) for o in body["organizations"]] == [("acme", "admin")]


def test_token_use_updates_last_used(admin_token_api, admin_token):
    token, _ = admin_token
    assert token.last_used_at is None
    admin_token_api.get(f"{API}/user")
    token.refresh_from_db()
    assert token.last_used_at is not None


def test_session_user_lists_all_organizations(admin_user, admin_api, org, outsider, other_org):
    membership_add(org=other_org, user=admin_user, role="member", actor=outsider)
    body = admin_api.get(f"{API}/user").json()
    assert body["token"] is None
    assert body["user"]["email"] == "ada@acme.test"
    assert body["user"]["display_name"] == "Ada Admin"
    assert [(o["slug"], o["role"]) for o in body["organizations"]] == [("acme", "admin"), ("other", "member")]


def test_token_of_org_a_on_org_b_is_404(admin_token_api, other_org):
    for suffix in ["", "/members", "/teams", "/databases", "/service-tokens", "/audit-events", "/invitations"]:
        assert_error(admin_token_api.get(org_url(other_org, suffix)), 404, "not_found")


def test_token_does_not_reach_other_org_even_if_creator_is_member_there(admin_user, admin_token_api, outsider,
                                                                       other_org):
    # The creator belongs to both; the token still acts for its own organization only.
    membership_add(org=other_org, user=admin_user, role="admin", actor=outsider)
    assert_error(admin_token_api.get(org_url(other_org, "/members")), 404)
    assert admin_token_api.get(f"{API}/organizations").json()["count"] == 1


def test_session_non_member_gets_404_for_org(outsider_api, org):
    assert_error(outsider_api.get(org_url(org)), 404, "not_found")
    assert_error(outsider_api.get(org_url("no-such-org")), 404, "not_found")


def test_session_unsafe_request_needs_csrf(admin_user, org):
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin_user, backend="accounts.backends.EmailBackend")
    api = JSONClient(client)
    response = api.post(org_url(org, "/teams"), {"name": "Core"})
    assert_error(response, 403, "permission_denied")
    assert "CSRF" in response.json()["message"]
    # With the CSRF cookie echoed in the header it passes.
    secret = "a" * 32
    client.cookies["csrftoken"] = secret
    response = api.post(org_url(org, "/teams"), {"name": "Core"}, HTTP_X_CSRFTOKEN=secret)
    assert response.status_code == 201, response.content


def test_bearer_requests_need_no_csrf(admin_token, org):
    client = Client(enforce_csrf_checks=True, headers={"Authorization": f"Bearer {admin_token[1]}"})
    response = JSONClient(client).post(org_url(org, "/teams"), {"name": "Core"})
    assert response.status_code == 201


# The service-token rule (SPEC E7) -----------------------------------------------


def test_admin_token_keeps_admin_rights_after_creator_is_demoted(org, admin_user, member, member_user,
                                                                 admin_token_api):
    other_admin = User.objects.create_user("bea@acme.test", "x" * 12)
    membership_add(org=org, user=other_admin, role="admin", actor=None)
    ada = Membership.objects.get(org=org, user=admin_user)
    membership_change_role(org=org, membership=ada, role="member", actor=other_admin)
    response = admin_token_api.patch(org_url(org, f"/members/{member.pk}"), {"is_database_admin": True})
    assert response.status_code == 200, response.content
    assert response.json()["is_database_admin"] is True


def test_admin_token_keeps_working_after_creator_is_removed(org, admin_user, member, admin_token_api, admin_token):
    other_admin = User.objects.create_user("bea@acme.test", "x" * 12)
    membership_add(org=org, user=other_admin, role="admin", actor=None)
    membership_remove(org=org, membership=Membership.objects.get(org=org, user=admin_user), actor=other_admin)

    assert admin_token_api.get(org_url(org, "/members")).status_code == 200
    response = admin_token_api.post(org_url(org, "/teams"), {"name": "Still works"})
    assert response.status_code == 201
    # The credential is still listed, active, with its creator marked as no longer a member.
    listed = JSONClient(Client(headers={"Authorization": f"Bearer {admin_token[1]}"})).get(
        org_url(org, "/service-tokens")).json()["results"]
    row = next(r for r in listed if r["id"] == admin_token[0].pk)
    assert row["active"] is True and row["creator_is_member"] is False and row["created_by"] == "ada@acme.test"
    # /user no longer lists the organizations of the creator's session, only the token's.
    body = admin_token_api.get(f"{API}/user").json()
    assert body["organizations"] == [{**body["organizations"][0], "slug": "acme", "role": "admin"}]


def test_token_whose_creator_account_was_deleted_still_works(org, member, member_user, member_token):
    token, secret = member_token
    member_user.delete()
    api = bearer_client(secret)
    body = api.get(f"{API}/user").json()
    assert body["user"] is None and body["token"]["role"] == "member"
    assert api.get(org_url(org, "/teams")).status_code == 200
    assert_error(api.post(org_url(org, "/teams"), {"name": "x"}), 403, "permission_denied")
    assert ServiceToken.objects.get(pk=token.pk).created_by is None


def test_member_token_stays_member_after_creator_is_promoted(org, admin_user, member, member_token_api):
    membership_change_role(org=org, membership=member, role="admin", actor=admin_user)
    assert_error(member_token_api.post(org_url(org, "/teams"), {"name": "Nope"}), 403, "permission_denied")
    # …and cannot mint itself an admin token.
    response = member_token_api.post(org_url(org, "/service-tokens"), {"name": "escalate"})
    assert_error(response, 403, "permission_denied")
    assert not ServiceToken.objects.filter(name="escalate").exists()


def test_member_token_can_create_member_token(org, member, member_token_api):
    response = member_token_api.post(org_url(org, "/service-tokens"), {"name": "rotated"})
    assert response.status_code == 201
    assert response.json()["role"] == "member"
