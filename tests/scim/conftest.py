"""Directory Sync fixtures: SSO enabled for the organizations (DS1), a directory with
its token, and a SCIM client that sends it."""
import json

import pytest
from django.test import Client
from django.utils import timezone

from scim.services import directory_enable
from sso.models import SSOConnection


def set_role_management(org, value=True, role_attribute=None, actor=None):
    """Test setup: DS4's switch on the organization's SSO connection, as the SSO app's
    service sets it (its own tests cover it): turning it on sends role_management_enabled
    in the same transaction."""
    from django.db import transaction

    from sso.signals import role_management_enabled

    with transaction.atomic():
        connection = SSOConnection.objects.select_for_update().get(org=org)
        was_on = connection.manage_roles_via_idp
        connection.manage_roles_via_idp = value
        if role_attribute:
            connection.role_attribute = role_attribute
        connection.save(update_fields=["manage_roles_via_idp", "role_attribute"])
        org.sso_connection = connection  # the test's organization object reads the new state
        if value and not was_on:
            role_management_enabled.send(sender=SSOConnection, org=org, actor=actor)
    return connection


def enable_sso(org):
    # Test setup only: the SSO app's enable flow has its own tests; here we need its end state.
    return SSOConnection.objects.update_or_create(
        org=org, defaults={"idp_entity_id": f"https://idp.test/{org.slug}", "idp_sso_url": "https://idp.test/sso",
                           "state": SSOConnection.State.ENABLED, "enabled_at": timezone.now()},
    )[0]


class ScimClient:
    def __init__(self, org, token):
        self.org = org
        self.token = token
        self.client = Client()
        self.base = f"/scim/v2/{org.slug}/"

    def _headers(self, token=None):
        return {"HTTP_AUTHORIZATION": f"Bearer {token or self.token}"}

    def url(self, path):
        return path if path.startswith("/") else self.base + path

    def get(self, path, token=None, **params):
        return self.client.get(self.url(path), params, **self._headers(token))

    def send(self, method, path, body=None, token=None, raw=None):
        data = raw if raw is not None else (json.dumps(body) if body is not None else "")
        return getattr(self.client, method.lower())(self.url(path), data=data,
                                                    content_type="application/scim+json",
                                                    **self._headers(token))

    def post(self, path, body, **kw):
        return self.send("POST", path, body, **kw)

    def put(self, path, body, **kw):
        return self.send("PUT", path, body, **kw)

    def patch(self, path, body, **kw):
        return self.send("PATCH", path, body, **kw)

    def delete(self, path, **kw):
        return self.send("DELETE", path, **kw)


@pytest.fixture
def sso_org(org):
    enable_sso(org)
    return org


@pytest.fixture
def directory_token(sso_org, admin_user):
    _, token = directory_enable(org=sso_org, actor=admin_user)
    return token


@pytest.fixture
def scim(sso_org, directory_token):
    return ScimClient(sso_org, directory_token)


@pytest.fixture
def other_scim(other_org, outsider):
    enable_sso(other_org)
    _, token = directory_enable(org=other_org, actor=outsider)
    return ScimClient(other_org, token)


def directory_for(org, admin_user) -> "ScimClient":
    """Directory Sync turned on for `org` (SSO enabled already), with a client holding its token."""
    _, token = directory_enable(org=org, actor=admin_user)
    return ScimClient(org, token)


def provision(scim, email) -> str:
    """POST a user with this email; its SCIM id."""
    response = scim.post("Users", user_body(email))
    assert response.status_code == 201, response.content
    return response.json()["id"]


def user_body(email, external_id=None, **extra):
    body = {
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": email,
        "name": {"givenName": "Given", "familyName": "Family"},
        "emails": [{"primary": True, "value": email, "type": "work"}],
        "displayName": "Given Family",
        "active": True,
    }
    if external_id:
        body["externalId"] = external_id
    body.update(extra)
    return body


def patch_body(*operations):
    return {"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": list(operations)}


def assert_scim_error(response, status, scim_type=None):
    assert response.status_code == status, response.content
    body = response.json()
    assert body["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:Error"]
    assert body["status"] == str(status)
    assert body["detail"]
    if scim_type:
        assert body.get("scimType") == scim_type, body
    return body


@pytest.fixture(autouse=True)
def _request_log_client():
    """The request log is in the cache or Redis, which tests/conftest.py empties before
    each test; its Redis client is rebuilt in case a test changes REDIS_URL."""
    from scim import request_log

    request_log._client = None
    yield
    request_log._client = None
