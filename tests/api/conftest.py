"""Helpers for API tests: JSON requests, token clients, and a few objects in both organizations."""
import json

import pytest
from django.test import Client

from orgs.services import database_create, database_password_create, invitation_create, service_token_create
from teams.services import team_create, team_member_add

API = "/api/v1"


def org_url(org, suffix: str = "") -> str:
    slug = org if isinstance(org, str) else org.slug
    return f"{API}/organizations/{slug}{suffix}"


class JSONClient:
    """A Django test client that speaks JSON."""

    def __init__(self, client: Client):
        self.client = client

    def get(self, path, params=None, **extra):
        return self.client.get(path, params or {}, **extra)

    def _send(self, method, path, data=None, raw: bytes | str | None = None, content_type="application/json",
              **extra):
        body = raw if raw is not None else (json.dumps(data) if data is not None else "")
        return getattr(self.client, method)(path, body, content_type=content_type, **extra)

    def post(self, path, data=None, **kw):
        return self._send("post", path, data, **kw)

    def patch(self, path, data=None, **kw):
        return self._send("patch", path, data, **kw)

    def put(self, path, data=None, **kw):
        return self._send("put", path, data, **kw)

    def delete(self, path, **extra):
        return self.client.delete(path, **extra)


def bearer_client(secret: str) -> JSONClient:
    return JSONClient(Client(headers={"Authorization": f"Bearer {secret}"}))


def assert_error(response, status: int, code: str | None = None):
    assert response.status_code == status, (response.status_code, response.content[:500])
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert isinstance(body.get("message"), str) and body["message"]
    if code is not None:
        assert body["code"] == code, body
    return body


@pytest.fixture
def admin_api(admin_client, org) -> JSONClient:
    return JSONClient(admin_client)


@pytest.fixture
def member_api(member_client, member) -> JSONClient:
    return JSONClient(member_client)


@pytest.fixture
def outsider_api(outsider_client, other_org) -> JSONClient:
    return JSONClient(outsider_client)


@pytest.fixture
def anon_api(db) -> JSONClient:
    return JSONClient(Client())


@pytest.fixture
def admin_token(org, admin_user):
    token, secret = service_token_create(org=org, name="admin ci", actor=admin_user)
    return token, secret


@pytest.fixture
def member_token(org, member, member_user):
    token, secret = service_token_create(org=org, name="member ci", actor=member_user)
    return token, secret


@pytest.fixture
def admin_token_api(admin_token) -> JSONClient:
    return bearer_client(admin_token[1])


@pytest.fixture
def member_token_api(member_token) -> JSONClient:
    return bearer_client(member_token[1])


@pytest.fixture
def acme_objects(org, admin_user, admin_membership, member):
    """Objects in acme, all made by the administrator (so a member is not their creator): ids by kind."""
    team = team_create(org=org, name="Core", actor=admin_user)
    team_member_add(org=org, team=team, membership=admin_membership, actor=admin_user)
    database = database_create(org=org, name="main", actor=admin_user)
    password, _ = database_password_create(org=org, database=database, name="pw", access="read_only",
                                           actor=admin_user)
    token, token_secret = service_token_create(org=org, name="admin tok", actor=admin_user)
    invitation, _ = invitation_create(org=org, email="inv@x.test", actor=admin_user)
    return {"admin_membership": admin_membership.pk, "member": member.pk, "team": team.pk, "database": database.name,
            "password": password.pk, "token": token.pk, "token_secret": token_secret, "invitation": invitation.pk}


@pytest.fixture
def other_world(other_org, outsider):
    """Objects of every kind in the other organization, to prove they stay invisible."""
    team = team_create(org=other_org, name="Other team", actor=outsider)
    from orgs.models import Membership

    outsider_membership = Membership.objects.get(org=other_org, user=outsider)
    team_member_add(org=other_org, team=team, membership=outsider_membership, actor=outsider)
    database = database_create(org=other_org, name="otherdb", actor=outsider)
    password, _ = database_password_create(org=other_org, database=database, name="pw", access="read_only",
                                           actor=outsider)
    token, token_secret = service_token_create(org=other_org, name="other token", actor=outsider)
    invitation, _ = invitation_create(org=other_org, email="someone@other.test", role="member", actor=outsider)
    return {
        "org": other_org, "membership": outsider_membership, "team": team, "database": database,
        "password": password, "token": token, "token_secret": token_secret, "invitation": invitation,
    }
