"""SCIM Users: create, read, filters, pagination, replace, patch, deactivate, delete, errors."""
import pytest

from accounts.models import User
from orgs.models import AuditEvent, Membership
from scim.models import DirectoryUser

from .conftest import assert_scim_error, patch_body, user_body

pytestmark = pytest.mark.django_db


def test_create_user_adds_directory_managed_member_and_ignores_password(scim, org):
    response = scim.post("Users", user_body("Jo@Acme.test", "ext-1", password="hunter2-secret"))
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["userName"] == "Jo@Acme.test"
    assert body["active"] is True
    assert body["externalId"] == "ext-1"
    assert "password" not in body
    assert response["Location"].endswith(f"/scim/v2/acme/Users/{body['id']}")
    account = User.objects.get(email="jo@acme.test")
    assert not account.has_usable_password()
    membership = Membership.objects.get(org=org, user=account)
    assert membership.role == Membership.Role.MEMBER and membership.directory_managed
    assert DirectoryUser.objects.get(pk=body["id"]).raw.get("password") is None
    assert AuditEvent.objects.filter(org=org, event="directory.user_created", actor_label="directory").exists()


def test_duplicate_username_is_409_case_insensitive(scim):
    assert scim.post("Users", user_body("dup@acme.test")).status_code == 201
    assert_scim_error(scim.post("Users", user_body("DUP@acme.test")), 409, "uniqueness")
    assert DirectoryUser.objects.filter(user_name="dup@acme.test").count() == 1


@pytest.mark.parametrize("body, scim_type", [
    ({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"]}, "invalidValue"),
    ({"userName": 5}, "invalidValue"),
    ({"userName": "a@acme.test", "active": "maybe"}, "invalidValue"),
    ({"userName": "a@acme.test", "emails": "a@acme.test"}, "invalidValue"),
    ({"userName": "a@acme.test", "name": "Ann"}, "invalidValue"),
    ({"userName": "a@acme.test", "planetscale_role": "owner"}, "invalidValue"),
    ({"userName": "a@acme.test", "roles": [{"value": "superuser"}]}, "invalidValue"),
    ({"userName": "a@acme.test", "schemas": "nope"}, "invalidSyntax"),
    (["not", "an", "object"], "invalidSyntax"),
])
def test_bad_user_bodies_are_400_and_change_nothing(scim, body, scim_type):
    before = DirectoryUser.objects.count(), Membership.objects.count(), User.objects.count()
    assert_scim_error(scim.post("Users", body), 400, scim_type)
    assert (DirectoryUser.objects.count(), Membership.objects.count(), User.objects.count()) == before


def test_malformed_json_and_empty_body(scim):
    assert_scim_error(scim.send("POST", "Users", raw="{nope"), 400, "invalidSyntax")
    assert_scim_error(scim.send("POST", "Users", raw=""), 400, "invalidSyntax")


def test_body_over_cap_is_413(scim, settings):
    settings.SCIM_MAX_BODY_BYTES = 1000
    assert_scim_error(scim.post("Users", user_body("big@acme.test", displayName="x" * 2000)), 413)
    assert not DirectoryUser.objects.exists()


def test_username_not_email_uses_work_email(scim):
    body = user_body("jdoe", emails=[{"value": "John.Doe@acme.test", "type": "work", "primary": True}])
    response = scim.post("Users", body)
    assert response.status_code == 201, response.content
    assert response.json()["userName"] == "jdoe"
    assert User.objects.filter(email="john.doe@acme.test").exists()


def test_user_without_any_email_waits_for_one(scim, org):
    response = scim.post("Users", {"userName": "jdoe"})
    assert response.status_code == 201, response.content
    user_id = response.json()["id"]
    directory_user = DirectoryUser.objects.get(pk=user_id)
    assert directory_user.user_id is None and directory_user.membership_id is None
    response = scim.patch(f"Users/{user_id}", patch_body(
        {"op": "add", "path": "emails", "value": [{"value": "jdoe@acme.test", "type": "work"}]}))
    assert response.status_code == 200, response.content
    assert Membership.objects.get(org=org, user__email="jdoe@acme.test").directory_managed


def test_existing_member_becomes_directory_managed(scim, org, member):
    response = scim.post("Users", user_body("max@acme.test"))
    assert response.status_code == 201
    member.refresh_from_db()
    assert member.directory_managed
    assert Membership.objects.filter(org=org, user__email="max@acme.test").count() == 1


def test_get_unknown_and_garbage_ids_are_404(scim):
    for ident in ("999999", "abc", "0", "-1", "99999999999999999999999"):
        assert_scim_error(scim.get(f"Users/{ident}"), 404)


def _make_users(scim, n, prefix="u"):
    ids = []
    for i in range(n):
        response = scim.post("Users", user_body(f"{prefix}{i}@acme.test", f"ext-{prefix}{i}"))
        assert response.status_code == 201
        ids.append(response.json()["id"])
    return ids


def test_filters(scim):
    ids = _make_users(scim, 3)
    cases = {
        'userName eq "U1@ACME.test"': [ids[1]],
        'externalId eq "ext-u2"': [ids[2]],
        'emails[type eq "work"].value eq "u0@acme.test"': [ids[0]],
        'userName eq "u0@acme.test" or userName eq "u2@acme.test"': [ids[0], ids[2]],
        'userName eq "u0@acme.test" and externalId eq "ext-u1"': [],
        'urn:ietf:params:scim:schemas:core:2.0:User:userName eq "u1@acme.test"': [ids[1]],
        'userName eq "nobody-5b1f@acme.test"': [],
        'active eq true': ids,
    }
    for text, expected in cases.items():
        response = scim.get("Users", filter=text)
        assert response.status_code == 200, (text, response.content)
        body = response.json()
        assert body["totalResults"] == len(expected), text
        assert [r["id"] for r in body["Resources"]] == expected, text
        assert isinstance(body["totalResults"], int) and isinstance(body["itemsPerPage"], int)


@pytest.mark.parametrize("text", ['password eq "x"', 'userName gt "a"', "userName eq", "((", 'title[x eq "y"]',
                                  'urn:other:schema:userName eq "x"'])
def test_unsupported_filters_are_400_invalid_filter(scim, text):
    assert_scim_error(scim.get("Users", filter=text), 400, "invalidFilter")


def test_pagination(scim, settings):
    settings.SCIM_MAX_RESULTS = 3
    ids = _make_users(scim, 5)
    page = scim.get("Users", startIndex=2, count=2).json()
    assert page["totalResults"] == 5 and page["startIndex"] == 2 and page["itemsPerPage"] == 2
    assert [r["id"] for r in page["Resources"]] == ids[1:3]
    capped = scim.get("Users", count=100).json()
    assert capped["itemsPerPage"] == 3
    assert scim.get("Users", count=-5).json()["Resources"] == []
    assert scim.get("Users", count=-5).json()["totalResults"] == 5
    first = scim.get("Users", startIndex=-3, count=1).json()
    assert first["startIndex"] == 1 and first["Resources"][0]["id"] == ids[0]
    beyond = scim.get("Users", startIndex=50).json()
    assert beyond["Resources"] == [] and beyond["totalResults"] == 5
    assert_scim_error(scim.get("Users", count="ten"), 400, "invalidValue")


def test_every_page_position_has_the_exact_total_and_the_right_slice(scim, other_scim):
    ids = _make_users(scim, 7)
    other_scim.post("Users", user_body("elsewhere@other.test"))  # another organization's rows never count
    for start in range(1, 10):
        for count in (1, 2, 3, 7, 8):
            page = scim.get("Users", startIndex=start, count=count).json()
            assert page["totalResults"] == 7, (start, count)
            assert [r["id"] for r in page["Resources"]] == ids[start - 1:start - 1 + count], (start, count)
            assert page["itemsPerPage"] == len(page["Resources"])


def test_search_endpoint(scim):
    ids = _make_users(scim, 2)
    response = scim.post("Users/.search", {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
        "filter": 'userName eq "u1@acme.test"', "attributes": ["userName"], "startIndex": 1, "count": 10,
    })
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["totalResults"] == 1
    assert body["Resources"][0] == {"schemas": body["Resources"][0]["schemas"], "id": ids[1],
                                    "userName": "u1@acme.test"}
    assert_scim_error(scim.post("Users/.search", {"filter": 'nope eq "x"'}), 400, "invalidFilter")


def test_attributes_and_excluded_attributes(scim):
    user_id = _make_users(scim, 1)[0]
    only = scim.get(f"Users/{user_id}", attributes="userName,name.givenName").json()
    assert set(only) == {"schemas", "id", "userName", "name"}
    assert only["name"] == {"givenName": "Given"}
    without = scim.get(f"Users/{user_id}", excludedAttributes="emails,name").json()
    assert "emails" not in without and "name" not in without and without["userName"] == "u0@acme.test"


def test_put_replaces_and_deactivates(scim, org):
    user_id = _make_users(scim, 1)[0]
    body = user_body("u0@acme.test", "ext-u0", displayName="Renamed", active=False)
    del body["name"]
    response = scim.put(f"Users/{user_id}", body)
    assert response.status_code == 200, response.content
    data = response.json()
    assert data["displayName"] == "Renamed" and data["active"] is False and "name" not in data
    assert not Membership.objects.filter(org=org, user__email="u0@acme.test").exists()
    assert scim.get(f"Users/{user_id}").json()["active"] is False
    body["active"] = True
    assert scim.put(f"Users/{user_id}", body).json()["active"] is True
    assert Membership.objects.get(org=org, user__email="u0@acme.test").directory_managed


def test_put_unknown_id_is_404_and_bad_body_400(scim):
    assert_scim_error(scim.put("Users/424242", user_body("x@acme.test")), 404)
    user_id = _make_users(scim, 1)[0]
    assert_scim_error(scim.put(f"Users/{user_id}", {"userName": ""}), 400, "invalidValue")
    assert scim.get(f"Users/{user_id}").json()["userName"] == "u0@acme.test"


def test_delete_removes_membership_but_keeps_account_and_credentials(scim, org):
    from orgs.services import database_create, database_password_create, service_token_create

    user_id = _make_users(scim, 1)[0]
    account = User.objects.get(email="u0@acme.test")
    database = database_create(org=org, name="main", actor=account)
    password, _ = database_password_create(org=org, database=database, name="app", access="read_only",
                                           actor=account)
    token, _ = service_token_create(org=org, name="ci", actor=account)
    assert scim.delete(f"Users/{user_id}").status_code == 204
    assert not Membership.objects.filter(org=org, user=account).exists()
    assert User.objects.filter(pk=account.pk).exists()
    password.refresh_from_db()
    token.refresh_from_db()
    assert password.is_active and token.is_active
    assert_scim_error(scim.get(f"Users/{user_id}"), 404)
    assert_scim_error(scim.delete(f"Users/{user_id}"), 404)


def test_last_admin_cannot_be_deprovisioned(scim, org, admin_user):
    response = scim.post("Users", user_body("ada@acme.test"))
    assert response.status_code == 201
    user_id = response.json()["id"]
    body = assert_scim_error(scim.patch(f"Users/{user_id}", patch_body(
        {"op": "replace", "path": "active", "value": False})), 409)
    assert "last administrator" in body["detail"]
    assert Membership.objects.get(org=org, user=admin_user).role == Membership.Role.ADMIN
    assert scim.get(f"Users/{user_id}").json()["active"] is True
    assert_scim_error(scim.delete(f"Users/{user_id}"), 409)
    assert DirectoryUser.objects.filter(pk=user_id).exists()


def test_unknown_endpoint_and_method(scim):
    assert_scim_error(scim.get("Nope"), 404)
    assert_scim_error(scim.send("DELETE", "Users"), 405)
