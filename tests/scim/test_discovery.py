"""ServiceProviderConfig, ResourceTypes and Schemas (RFC 7643 §5–7)."""
import pytest


from .conftest import assert_scim_error, set_role_management

pytestmark = pytest.mark.django_db


def test_service_provider_config(scim):
    body = scim.get("ServiceProviderConfig").json()
    assert body["patch"] == {"supported": True}
    assert body["filter"] == {"supported": True, "maxResults": 200}
    assert body["bulk"]["supported"] is False
    assert body["etag"] == {"supported": False} and body["sort"] == {"supported": False}
    assert body["changePassword"] == {"supported": False}
    assert body["authenticationSchemes"][0]["type"] == "oauthbearertoken"


def test_resource_types_list_and_detail(scim):
    body = scim.get("ResourceTypes").json()
    assert body["totalResults"] == 2 and isinstance(body["totalResults"], int)
    endpoints = {r["id"]: r["endpoint"] for r in body["Resources"]}
    assert endpoints == {"User": "/Users", "Group": "/Groups"}
    assert scim.get("ResourceTypes/User").json()["schema"] == "urn:ietf:params:scim:schemas:core:2.0:User"
    assert_scim_error(scim.get("ResourceTypes/Widget"), 404)


def test_schemas_declare_role_attribute(scim, admin_user):
    body = scim.get("Schemas").json()
    assert body["totalResults"] == 2
    user = scim.get("Schemas/urn:ietf:params:scim:schemas:core:2.0:User").json()
    names = {a["name"]: a for a in user["attributes"]}
    assert names["planetscale_role"]["canonicalValues"] == ["member", "admin"]
    assert "roles" in names and names["userName"]["uniqueness"] == "server"
    set_role_management(scim.org, role_attribute="gh_role")
    user = scim.get("Schemas/urn:ietf:params:scim:schemas:core:2.0:User").json()
    assert "gh_role" in {a["name"] for a in user["attributes"]}
    assert_scim_error(scim.get("Schemas/urn:nope"), 404)


def test_discovery_needs_the_token(scim):
    assert_scim_error(scim.client.get(scim.url("ServiceProviderConfig")), 401)
