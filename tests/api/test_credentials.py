"""Databases, database passwords and service tokens through the API."""
import pytest

from accounts.models import User
from orgs.models import AuditEvent, Database, DatabasePassword, Membership, ServiceToken, hash_secret
from orgs.services import (
    database_create,
    database_password_create,
    membership_add,
    membership_remove,
    service_token_create,
)

from .conftest import assert_error, bearer_client, org_url

pytestmark = pytest.mark.django_db


def _state(org):
    return (list(Database.objects.filter(org=org).order_by("pk").values_list("pk", "name")),
            list(DatabasePassword.objects.filter(org=org).order_by("pk").values_list("pk", "revoked_at")),
            list(ServiceToken.objects.filter(org=org).order_by("pk").values_list("pk", "revoked_at")),
            AuditEvent.objects.filter(org=org).count())


@pytest.fixture
def database(org, admin_user):
    return database_create(org=org, name="main", actor=admin_user)


# Databases ---------------------------------------------------------------------


def test_member_creates_database_admin_deletes(member_api, admin_api, org, member):
    response = member_api.post(org_url(org, "/databases"), {"name": "Analytics"})
    assert response.status_code == 201, response.content
    assert response.json()["name"] == "analytics" and response.json()["created_by"] == "max@acme.test"
    assert response.json()["active_passwords"] == 0
    assert member_api.get(org_url(org, "/databases/analytics")).json()["name"] == "analytics"
    before = _state(org)
    assert_error(member_api.delete(org_url(org, "/databases/analytics")), 403)
    assert _state(org) == before
    assert admin_api.delete(org_url(org, "/databases/analytics")).status_code == 204
    assert not Database.objects.filter(org=org).exists()


@pytest.mark.parametrize("body,status,code", [
    ({"name": "main"}, 409, "name_taken"),
    ({"name": "MAIN"}, 409, "name_taken"),
    ({"name": "bad name!"}, 400, "invalid_name"),
    ({"name": "-x"}, 400, "invalid_name"),
    ({"name": ""}, 400, "invalid"),
    ({"name": "x" * 65}, 400, "invalid"),
    ({"name": "ok", "region": "eu"}, 400, "unknown_field"),
])
def test_bad_database_input(admin_api, org, database, body, status, code):
    before = _state(org)
    assert_error(admin_api.post(org_url(org, "/databases"), body), status, code)
    assert _state(org) == before


# Passwords -------------------------------------------------------------------------


def test_member_creates_password_secret_shown_once(member_api, org, member, database):
    response = member_api.post(org_url(org, "/databases/main/passwords"), {"name": "app", "access": "read_write"})
    assert response.status_code == 201, response.content
    body = response.json()
    secret = body["plain_text"]
    password = DatabasePassword.objects.get(pk=body["id"])
    assert password.token_hash == hash_secret(secret) and secret.startswith(body["prefix"])
    assert body["access"] == "read_write" and body["active"] is True and body["creator_is_member"] is True
    assert body["database"] == "main" and body["created_by"] == "max@acme.test"
    listed = member_api.get(org_url(org, "/databases/main/passwords")).json()["results"]
    assert [r["id"] for r in listed] == [password.pk] and "plain_text" not in listed[0]
    assert secret not in member_api.get(org_url(org, f"/databases/main/passwords/{password.pk}")).content.decode()
    assert member_api.get(org_url(org, "/databases/main")).json()["active_passwords"] == 1


@pytest.mark.parametrize("body,status,code", [
    ({"name": "dup"}, 409, "name_taken"),
    ({"name": ""}, 400, "invalid"),
    ({"name": "x", "access": "admin"}, 400, "invalid"),
    ({"name": "x", "plain_text": "mine"}, 400, "unknown_field"),
])
def test_bad_password_input(admin_api, org, admin_user, database, body, status, code):
    database_password_create(org=org, database=database, name="dup", access="read_only", actor=admin_user)
    before = _state(org)
    assert_error(admin_api.post(org_url(org, "/databases/main/passwords"), body), status, code)
    assert _state(org) == before


def test_password_revocation_creator_or_admin(member_api, admin_api, org, admin_user, member, member_user, database):
    admins, _ = database_password_create(org=org, database=database, name="a", access="read_only", actor=admin_user)
    mine, _ = database_password_create(org=org, database=database, name="m", access="read_only", actor=member_user)
    before = _state(org)
    assert_error(member_api.delete(org_url(org, f"/databases/main/passwords/{admins.pk}")), 403)
    assert _state(org) == before
    response = member_api.delete(org_url(org, f"/databases/main/passwords/{mine.pk}"))
    assert response.status_code == 200 and response.json()["active"] is False
    response = admin_api.delete(org_url(org, f"/databases/main/passwords/{admins.pk}"))
    assert response.status_code == 200 and response.json()["revoked_at"]
    # Again: no change, no new event.
    events = AuditEvent.objects.filter(org=org).count()
    assert admin_api.delete(org_url(org, f"/databases/main/passwords/{admins.pk}")).status_code == 200
    assert AuditEvent.objects.filter(org=org).count() == events


def test_password_of_another_database_is_404(admin_api, org, admin_user, database):
    other_db = database_create(org=org, name="second", actor=admin_user)
    password, _ = database_password_create(org=org, database=other_db, name="p", access="read_only", actor=admin_user)
    assert_error(admin_api.get(org_url(org, f"/databases/main/passwords/{password.pk}")), 404)
    assert_error(admin_api.delete(org_url(org, f"/databases/main/passwords/{password.pk}")), 404)
    assert DatabasePassword.objects.get(pk=password.pk).revoked_at is None


# Service tokens -----------------------------------------------------------------------


def test_member_creates_token_that_authenticates(member_api, org, member):
    response = member_api.post(org_url(org, "/service-tokens"), {"name": "deploy"})
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["role"] == "member" and body["active"] and body["created_by"] == "max@acme.test"
    assert body["token"].startswith(body["prefix"])
    listed = member_api.get(org_url(org, "/service-tokens")).json()["results"]
    assert [r["id"] for r in listed] == [body["id"]] and "token" not in listed[0]
    assert bearer_client(body["token"]).get(org_url(org, "/members")).status_code == 200


@pytest.mark.parametrize("body,status,code", [
    ({"name": "taken"}, 409, "name_taken"),
    ({"name": "  "}, 400, "invalid"),
    ({"name": "x" * 101}, 400, "invalid"),
    ({"name": "x", "role": "admin"}, 400, "unknown_field"),
])
def test_bad_token_input(member_api, org, member, member_user, body, status, code):
    service_token_create(org=org, name="taken", actor=member_user)
    before = _state(org)
    assert_error(member_api.post(org_url(org, "/service-tokens"), body), status, code)
    assert _state(org) == before


def test_token_revocation_creator_or_admin(member_api, admin_api, org, admin_user, member, member_user):
    admins, admin_secret = service_token_create(org=org, name="a", actor=admin_user)
    mine, my_secret = service_token_create(org=org, name="m", actor=member_user)
    before = _state(org)
    assert_error(member_api.delete(org_url(org, f"/service-tokens/{admins.pk}")), 403)
    assert _state(org) == before
    assert member_api.delete(org_url(org, f"/service-tokens/{mine.pk}")).json()["active"] is False
    assert_error(bearer_client(my_secret).get(org_url(org)), 401)
    assert admin_api.delete(org_url(org, f"/service-tokens/{admins.pk}")).json()["active"] is False
    assert_error(bearer_client(admin_secret).get(org_url(org)), 401)


def test_credentials_outlive_their_creator(admin_api, org, admin_user, member, member_user, database):
    password, pw_secret = database_password_create(org=org, database=database, name="m", access="read_only",
                                                   actor=member_user)
    token, token_secret = service_token_create(org=org, name="m", actor=member_user)
    membership_remove(org=org, membership=member, actor=admin_user)
    pw_row = admin_api.get(org_url(org, "/databases/main/passwords")).json()["results"][0]
    assert pw_row["active"] is True and pw_row["creator_is_member"] is False and pw_row["created_by"] == "max@acme.test"
    token_row = admin_api.get(org_url(org, f"/service-tokens/{token.pk}")).json()
    assert token_row["active"] is True and token_row["creator_is_member"] is False
    assert bearer_client(token_secret).get(org_url(org, "/members")).status_code == 200
    # An administrator can revoke them.
    assert admin_api.delete(org_url(org, f"/service-tokens/{token.pk}")).json()["active"] is False


def test_removed_creators_token_cannot_mint_tokens(org, admin_user, member, member_user):
    _, secret = service_token_create(org=org, name="m", actor=member_user)
    membership_remove(org=org, membership=member, actor=admin_user)
    before = _state(org)
    assert_error(bearer_client(secret).post(org_url(org, "/service-tokens"), {"name": "new"}), 403, "not_member")
    assert _state(org) == before


def test_database_admin_grant_does_not_give_admin_rights(member_api, org, admin_user, member, database):
    member.is_database_admin = True
    member.save()
    before = _state(org)
    assert_error(member_api.delete(org_url(org, "/databases/main")), 403)
    assert _state(org) == before


def test_other_orgs_credentials_are_invisible(admin_api, org, database, other_world):
    other_db, other_pw, other_token = other_world["database"], other_world["password"], other_world["token"]
    assert [d["name"] for d in admin_api.get(org_url(org, "/databases")).json()["results"]] == ["main"]
    assert admin_api.get(org_url(org, "/service-tokens")).json()["count"] == 0
    assert_error(admin_api.get(org_url(org, f"/databases/{other_db.name}")), 404)
    assert_error(admin_api.delete(org_url(org, f"/databases/{other_db.name}")), 404)
    assert_error(admin_api.get(org_url(org, f"/databases/{other_db.name}/passwords")), 404)
    assert_error(admin_api.post(org_url(org, f"/databases/{other_db.name}/passwords"), {"name": "x"}), 404)
    assert_error(admin_api.get(org_url(org, f"/databases/main/passwords/{other_pw.pk}")), 404)
    assert_error(admin_api.delete(org_url(org, f"/databases/main/passwords/{other_pw.pk}")), 404)
    assert_error(admin_api.get(org_url(org, f"/service-tokens/{other_token.pk}")), 404)
    assert_error(admin_api.delete(org_url(org, f"/service-tokens/{other_token.pk}")), 404)
    for suffix in ("/databases", f"/databases/{other_db.name}/passwords", "/service-tokens"):
        assert_error(admin_api.get(org_url(other_world["org"], suffix)), 404)
    assert Database.objects.filter(pk=other_db.pk).exists()
    assert DatabasePassword.objects.get(pk=other_pw.pk).revoked_at is None
    assert ServiceToken.objects.get(pk=other_token.pk).revoked_at is None


def test_a_same_named_database_in_another_org_is_separate(admin_api, org, database, other_org, outsider):
    database_create(org=other_org, name="main", actor=outsider)
    assert admin_api.get(org_url(org, "/databases/main")).json()["id"] == database.pk


def test_other_orgs_token_cannot_see_this_org(org, other_world):
    api = bearer_client(other_world["token_secret"])
    assert_error(api.get(org_url(org, "/databases")), 404)
    assert api.get(org_url(other_world["org"], "/databases")).json()["count"] == 1


def test_member_of_two_orgs_sees_only_the_org_in_the_url(org, other_org, outsider, admin_user, admin_api):
    membership_add(org=other_org, user=admin_user, role="member", actor=outsider)
    database_create(org=other_org, name="theirs", actor=outsider)
    assert admin_api.get(org_url(org, "/databases")).json()["count"] == 0
    assert [d["name"] for d in admin_api.get(org_url(other_org, "/databases")).json()["results"]] == ["theirs"]
    # Admin in acme is only a member in other.
    assert_error(admin_api.delete(org_url(other_org, "/databases/theirs")), 403)
    assert User.objects.filter(email="ada@acme.test").exists()
    assert Membership.objects.filter(org=other_org, user=admin_user, role="member").exists()
