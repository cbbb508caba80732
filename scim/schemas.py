"""What the server declares about itself (RFC 7643 §5–7): ServiceProviderConfig,
ResourceTypes and Schemas. Endpoints are relative to the organization's base URL."""
from django.conf import settings

from orgs.models import Membership

USER_URN = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP_URN = "urn:ietf:params:scim:schemas:core:2.0:Group"
LIST_URN = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
SPC_URN = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"
RESOURCE_TYPE_URN = "urn:ietf:params:scim:schemas:core:2.0:ResourceType"
SCHEMA_URN = "urn:ietf:params:scim:schemas:core:2.0:Schema"

ROLE_VALUES = [Membership.Role.MEMBER.value, Membership.Role.ADMIN.value]


def max_results() -> int:
    return getattr(settings, "SCIM_MAX_RESULTS", 200)


def _attr(name, type_="string", *, multi=False, required=False, case_exact=False, mutability="readWrite",
          returned="default", uniqueness="none", description="", sub=None, canonical=None, ref_types=None):
    attribute = {
        "name": name,
        "type": type_,
        "multiValued": multi,
        "description": description or name,
        "required": required,
        "caseExact": case_exact,
        "mutability": mutability,
        "returned": returned,
        "uniqueness": uniqueness,
    }
    if sub is not None:
        attribute["subAttributes"] = sub
    if canonical is not None:
        attribute["canonicalValues"] = canonical
    if ref_types is not None:
        attribute["referenceTypes"] = ref_types
    return attribute


def user_schema(role_attribute: str) -> dict:
    return {
        "schemas": [SCHEMA_URN],
        "id": USER_URN,
        "name": "User",
        "description": "A member of the organization, provisioned by its identity provider.",
        "attributes": [
            _attr("userName", required=True, uniqueness="server",
                  description="The person's email address; unique in the organization, case-insensitive."),
            _attr("name", "complex", description="The person's name.", sub=[
                _attr("formatted"), _attr("familyName"), _attr("givenName"),
            ]),
            _attr("displayName"),
            _attr("active", "boolean", description="False removes the person's membership; true restores it."),
            _attr("emails", "complex", multi=True, sub=[
                _attr("value", description="An email address."),
                _attr("type", canonical=["work", "home", "other"]),
                _attr("primary", "boolean"),
            ]),
            _attr(role_attribute, canonical=ROLE_VALUES,
                  description="The organization role (member or admin); applied when roles are managed "
                              "through the identity provider."),
            _attr("roles", "complex", multi=True, description="Roles (Entra ID app roles): member or admin.", sub=[
                _attr("value", canonical=ROLE_VALUES), _attr("display"), _attr("type"), _attr("primary", "boolean"),
            ]),
        ],
        "meta": {"resourceType": "Schema", "location": f"/Schemas/{USER_URN}"},
    }


def group_schema() -> dict:
    return {
        "schemas": [SCHEMA_URN],
        "id": GROUP_URN,
        "name": "Group",
        "description": "A group; it becomes a team of the organization.",
        "attributes": [
            _attr("displayName", required=True, uniqueness="server",
                  description="The team's name; unique in the organization, case-insensitive."),
            _attr("members", "complex", multi=True, description="Members: ids of this organization's users.", sub=[
                _attr("value", mutability="immutable", description="The member's id."),
                _attr("$ref", "reference", mutability="immutable", ref_types=["User"]),
            ]),
        ],
        "meta": {"resourceType": "Schema", "location": f"/Schemas/{GROUP_URN}"},
    }


def schemas(role_attribute: str) -> list[dict]:
    return [user_schema(role_attribute), group_schema()]


def resource_types() -> list[dict]:
    return [
        {
            "schemas": [RESOURCE_TYPE_URN],
            "id": "User",
            "name": "User",
            "endpoint": "/Users",
            "description": "Members of the organization",
            "schema": USER_URN,
            "schemaExtensions": [],
            "meta": {"resourceType": "ResourceType", "location": "/ResourceTypes/User"},
        },
        {
            "schemas": [RESOURCE_TYPE_URN],
            "id": "Group",
            "name": "Group",
            "endpoint": "/Groups",
            "description": "Teams of the organization",
            "schema": GROUP_URN,
            "schemaExtensions": [],
            "meta": {"resourceType": "ResourceType", "location": "/ResourceTypes/Group"},
        },
    ]


def service_provider_config() -> dict:
    return {
        "schemas": [SPC_URN],
        "documentationUri": f"{settings.BASE_URL}/",
        "patch": {"supported": True},
        "bulk": {"supported": False, "maxOperations": 0, "maxPayloadSize": 0},
        "filter": {"supported": True, "maxResults": max_results()},
        "changePassword": {"supported": False},
        "sort": {"supported": False},
        "etag": {"supported": False},
        "authenticationSchemes": [
            {
                "type": "oauthbearertoken",
                "name": "OAuth Bearer Token",
                "description": "The organization's Directory Sync token, sent as `Authorization: Bearer <token>`.",
                "primary": True,
            }
        ],
        "meta": {"resourceType": "ServiceProviderConfig", "location": "/ServiceProviderConfig"},
    }


def list_response(resources: list, total: int | None = None, start_index: int = 1) -> dict:
    return {
        "schemas": [LIST_URN],
        "totalResults": len(resources) if total is None else total,
        "startIndex": start_index,
        "itemsPerPage": len(resources),
        "Resources": resources,
    }
