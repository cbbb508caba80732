"""The OpenAPI 3 schema: served as JSON, complete, and generated without warnings."""
import pytest
from django.core.management import call_command

from .conftest import API

pytestmark = pytest.mark.django_db


def test_schema_is_served_as_json(anon_api):
    response = anon_api.get(f"{API}/openapi.json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    paths = schema["paths"]
    for path in ["/api/v1/user", "/api/v1/organizations", "/api/v1/organizations/{org_slug}/members",
                 "/api/v1/organizations/{org_slug}/members/{membership_id}",
                 "/api/v1/organizations/{org_slug}/invitations/{invitation_id}/resend",
                 "/api/v1/organizations/{org_slug}/teams/{team_id}/members/{membership_id}",
                 "/api/v1/organizations/{org_slug}/databases/{database_name}/passwords/{password_id}",
                 "/api/v1/organizations/{org_slug}/service-tokens/{token_id}",
                 "/api/v1/organizations/{org_slug}/audit-events"]:
        assert path in paths, path
    assert set(paths["/api/v1/organizations/{org_slug}/members/{membership_id}"]) >= {"get", "patch", "delete"}
    members = paths["/api/v1/organizations/{org_slug}/members"]["get"]
    assert members["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith("PaginatedMemberList")
    assert {p["name"] for p in members["parameters"]} >= {"limit", "offset", "org_slug"}
    assert schema["components"]["schemas"]["Error"]["required"] == ["code", "message"]
    scheme = schema["components"]["securitySchemes"]["serviceToken"]
    assert scheme["scheme"] == "bearer" and "its creator had when it was created" in scheme["description"]
    assert "Bearer" in schema["info"]["description"]


def test_schema_validates_without_warnings(tmp_path):
    out = tmp_path / "schema.json"
    # --fail-on-warn turns any warning or error of the generator into a failure.
    call_command("spectacular", "--validate", "--fail-on-warn", "--format", "openapi-json", "--file", str(out))
    assert out.stat().st_size > 10_000
