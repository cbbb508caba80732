"""Settings › Databases (passwords) and Service tokens: secrets shown once, creator shown, revocation rules."""
import re

import pytest

from orgs.models import Database, DatabasePassword, ServiceToken, hash_secret
from orgs.services import (
    database_create,
    database_password_create,
    membership_remove,
    service_token_authenticate,
    service_token_create,
)

DBS = "/orgs/acme/settings/databases/"
TOKENS = "/orgs/acme/settings/service-tokens/"


def shown_secret(body: str) -> str:
    return re.search(r'id="one-time-secret" type="text" readonly value="([^"]+)"', body).group(1)


@pytest.mark.django_db
def test_member_creates_a_database_and_a_password_shown_once(member_client, member, org):
    response = member_client.post(DBS, {"name": "analytics"})
    assert response.status_code == 302 and response["Location"] == f"{DBS}analytics/"
    response = member_client.post(f"{DBS}analytics/", {"name": "reporting", "access": "read_only"})
    assert response.status_code == 200
    body = response.content.decode()
    secret = shown_secret(body)
    assert secret.startswith("ghp_") and 'data-copy="#one-time-secret"' in body
    password = DatabasePassword.objects.get(org=org, name="reporting")
    assert password.token_hash == hash_secret(secret) and password.created_by == member.user
    # Never shown again.
    again = member_client.get(f"{DBS}analytics/").content.decode()
    assert secret not in again and "reporting" in again and "max@acme.test" in again


@pytest.mark.django_db
@pytest.mark.parametrize("data", [{"name": "Bad Name!"}, {"name": ""}, {"name": "x" * 65}])
def test_bad_database_names_are_400(admin_client, org, data):
    assert admin_client.post(DBS, data).status_code == 400
    assert not Database.objects.filter(org=org).exists()


@pytest.mark.django_db
def test_duplicate_database_and_password_names_are_409(admin_client, org, admin_user):
    database = database_create(org=org, name="main", actor=admin_user)
    database_password_create(org=org, database=database, name="app", access="read_only", actor=admin_user)
    response = admin_client.post(DBS, {"name": "main"})
    assert response.status_code == 409 and "already exists" in response.content.decode()
    response = admin_client.post(f"{DBS}main/", {"name": "app", "access": "read_only"})
    assert response.status_code == 409 and "already exists" in response.content.decode()
    response = admin_client.post(f"{DBS}main/", {"name": "other", "access": "superuser"})
    assert response.status_code == 400
    assert DatabasePassword.objects.filter(org=org).count() == 1 and Database.objects.filter(org=org).count() == 1


@pytest.mark.django_db
def test_revoking_someone_elses_password_needs_admin(member_client, admin_client, member, org, admin_user):
    database = database_create(org=org, name="main", actor=admin_user)
    admins, _ = database_password_create(org=org, database=database, name="admins", access="read_write",
                                         actor=admin_user)
    mine, _ = database_password_create(org=org, database=database, name="mine", access="read_only",
                                       actor=member.user)
    page = member_client.get(f"{DBS}main/").content.decode()
    assert f"/passwords/{mine.pk}/revoke/" in page and f"/passwords/{admins.pk}/revoke/" not in page
    assert member_client.post(f"{DBS}main/passwords/{admins.pk}/revoke/").status_code == 403
    assert member_client.post(f"{DBS}main/passwords/{mine.pk}/revoke/").status_code == 302
    admins.refresh_from_db()
    mine.refresh_from_db()
    assert admins.is_active and not mine.is_active
    assert admin_client.post(f"{DBS}main/passwords/{admins.pk}/revoke/").status_code == 302
    admins.refresh_from_db()
    assert not admins.is_active
    assert "Revoked" in admin_client.get(f"{DBS}main/").content.decode()


@pytest.mark.django_db
def test_only_admins_delete_databases(member_client, admin_client, member, org, admin_user):
    database_create(org=org, name="main", actor=admin_user)
    assert member_client.post(f"{DBS}main/delete/").status_code == 403
    assert Database.objects.filter(org=org, name="main").exists()
    assert admin_client.post(f"{DBS}main/delete/").status_code == 302
    assert not Database.objects.filter(org=org, name="main").exists()


@pytest.mark.django_db
def test_service_token_shown_once_and_authenticates(admin_client, org, admin_user):
    response = admin_client.post(TOKENS, {"name": "deploy"})
    assert response.status_code == 200
    secret = shown_secret(response.content.decode())
    token = service_token_authenticate(secret)
    assert token is not None and token.org == org and token.role == "admin" and token.created_by == admin_user
    assert secret not in admin_client.get(TOKENS).content.decode()
    response = admin_client.post(TOKENS, {"name": "deploy"})
    assert response.status_code == 409
    assert admin_client.post(TOKENS, {"name": ""}).status_code == 400
    assert ServiceToken.objects.filter(org=org).count() == 1


@pytest.mark.django_db
def test_credentials_outlive_the_creator(admin_client, org, member, admin_user):
    database = database_create(org=org, name="main", actor=admin_user)
    database_password_create(org=org, database=database, name="max-pw", access="read_only", actor=member.user)
    token, _ = service_token_create(org=org, name="max-token", actor=member.user)
    membership_remove(org=org, membership=member, actor=admin_user)
    for url, name in [(f"{DBS}main/", "max-pw"), (TOKENS, "max-token")]:
        body = admin_client.get(url).content.decode()
        row = body[body.index(f'data-credential="{name}"'):]
        row = row[: row.index("</tr>")]
        assert "max@acme.test" in row and "creator left" in row and "Active" in row


@pytest.mark.django_db
def test_member_revokes_own_token_only(member_client, member, org, admin_user):
    admins, _ = service_token_create(org=org, name="admins", actor=admin_user)
    mine, _ = service_token_create(org=org, name="mine", actor=member.user)
    assert member_client.post(f"{TOKENS}{admins.pk}/revoke/").status_code == 403
    assert member_client.post(f"{TOKENS}{mine.pk}/revoke/").status_code == 302
    admins.refresh_from_db()
    mine.refresh_from_db()
    assert admins.is_active and not mine.is_active
    assert member_client.post(f"{TOKENS}99999/revoke/").status_code == 404
