"""Bearer tokens of one organization only; nothing crosses organizations (SPEC §7 SCIM)."""
import pytest

from scim.models import DirectoryGroupMember, DirectoryToken, DirectoryUser
from scim.services import directory_rotate_token
from teams.models import TeamMember

from .conftest import assert_scim_error, patch_body, user_body

pytestmark = pytest.mark.django_db


def test_missing_or_wrong_token_is_401_with_scim_body(scim):
    for headers in ({}, {"HTTP_AUTHORIZATION": "Bearer nope"}, {"HTTP_AUTHORIZATION": f"Basic {scim.token}"},
                    {"HTTP_AUTHORIZATION": "Bearer"}, {"HTTP_AUTHORIZATION": "Bearer " + "x" * 5000}):
        response = scim.client.get(scim.url("Users"), **headers)
        body = assert_scim_error(response, 401)
        assert response["WWW-Authenticate"].startswith("Bearer")
        assert body["status"] == "401"


def test_session_cookie_never_authenticates(scim, admin_client):
    response = admin_client.get("/scim/v2/acme/Users")
    assert_scim_error(response, 401)
    response = admin_client.post("/scim/v2/acme/Users", data=user_body("s@acme.test"),
                                 content_type="application/scim+json")
    assert_scim_error(response, 401)
    assert not DirectoryUser.objects.exists()


def test_token_of_a_on_b_url_is_401(scim, other_scim):
    assert_scim_error(scim.get("/scim/v2/other/Users"), 401)
    assert_scim_error(scim.post("/scim/v2/other/Users", user_body("x@other.test")), 401)
    assert_scim_error(scim.get("/scim/v2/nosuchorg/Users"), 401)
    assert not DirectoryUser.objects.exists()


def test_ids_of_a_are_404_through_b(scim, other_scim):
    user_id = scim.post("Users", user_body("a1@acme.test")).json()["id"]
    group_id = scim.post("Groups", {"displayName": "A team", "members": [{"value": user_id}]}).json()["id"]
    for method in ("GET", "DELETE"):
        assert_scim_error(other_scim.send(method, f"Users/{user_id}"), 404)
        assert_scim_error(other_scim.send(method, f"Groups/{group_id}"), 404)
    assert_scim_error(other_scim.put(f"Users/{user_id}", user_body("a1@acme.test", active=False)), 404)
    assert_scim_error(other_scim.patch(f"Users/{user_id}", patch_body(
        {"op": "replace", "path": "active", "value": False})), 404)
    assert_scim_error(other_scim.patch(f"Groups/{group_id}", patch_body(
        {"op": "replace", "path": "members", "value": []})), 404)
    assert DirectoryUser.objects.get(pk=user_id).active
    assert DirectoryGroupMember.objects.filter(group_id=group_id).count() == 1


def test_filters_and_search_are_scoped(scim, other_scim):
    scim.post("Users", user_body("shared@acme.test", "same-ext"))
    scim.post("Groups", {"displayName": "Shared"})
    assert other_scim.get("Users").json()["totalResults"] == 0
    assert other_scim.get("Users", filter='externalId eq "same-ext"').json()["totalResults"] == 0
    assert other_scim.get("Users", filter='userName eq "shared@acme.test" or active eq true').json()[
        "totalResults"] == 0
    assert other_scim.post("Users/.search", {"filter": 'userName eq "shared@acme.test"'}).json()[
        "totalResults"] == 0
    assert other_scim.get("Groups", filter='displayName eq "Shared"').json()["totalResults"] == 0
    assert other_scim.post("Groups/.search", {}).json()["totalResults"] == 0


def test_group_patch_with_other_orgs_user_is_400(scim, other_scim):
    foreign = other_scim.post("Users", user_body("f@other.test")).json()["id"]
    group_id = scim.post("Groups", {"displayName": "Mine"}).json()["id"]
    assert_scim_error(scim.patch(f"Groups/{group_id}", patch_body(
        {"op": "add", "path": "members", "value": [{"value": foreign}]})), 400, "invalidValue")
    assert_scim_error(scim.post("Groups", {"displayName": "Other", "members": [{"value": foreign}]}), 400)
    assert not DirectoryGroupMember.objects.filter(directory_user_id=foreign).exists()
    assert not TeamMember.objects.filter(org=scim.org).exists()


def test_rotation_kills_old_token_at_once(scim, admin_user):
    new = directory_rotate_token(org=scim.org, actor=admin_user)
    assert_scim_error(scim.get("Users"), 401)
    assert scim.get("Users", token=new).status_code == 200
    assert DirectoryToken.objects.filter(org=scim.org, revoked_at__isnull=True).count() == 1
    stored = DirectoryToken.objects.get(org=scim.org, revoked_at__isnull=True)
    assert new not in (stored.token_hash, stored.prefix) and len(stored.token_hash) == 64


def test_rate_limit_is_429_with_retry_after(scim, settings):
    settings.SCIM_RATE_LIMIT = 3
    for _ in range(3):
        assert scim.get("Users").status_code == 200
    response = scim.get("Users")
    assert_scim_error(response, 429)
    assert int(response["Retry-After"]) >= 1


def test_requests_are_logged_for_troubleshooting(scim, other_scim):
    from scim import request_log

    scim.get("Users", filter='userName eq "x@acme.test"')
    scim.get("Users/12345")
    rows = request_log.recent(org_id=scim.org.pk)
    assert [(r["method"], r["status"]) for r in rows] == [("GET", 404), ("GET", 200)]  # newest first
    assert rows[1]["path"].startswith("/scim/v2/acme/Users?filter=")
    assert rows[0]["detail"] == "User not found."
    assert request_log.recent(org_id=other_scim.org.pk) == []  # per organization
    for _ in range(request_log.KEEP + 5):
        scim.get("Users")
    assert len(request_log.recent(org_id=scim.org.pk, limit=1000)) == request_log.KEEP  # capped


def test_an_unexpected_failure_is_a_scim_500_body_without_a_traceback(scim, monkeypatch):
    from scim import views

    def broken(**kwargs):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(views.selectors, "directory_user_get", broken)
    response = scim.get("Users/1")
    assert response.status_code == 500 and response["Content-Type"].startswith("application/scim+json")
    body = response.json()
    assert body["status"] == "500" and "secret internals" not in response.content.decode()
