"""GET /api/v1/organizations/<org>/audit-events/export: the list's events, filtered by the
list's own filters, as CSV or NDJSON; administrators only; every export recorded first;
bad input a JSON 400 that records nothing."""
import csv
import io
import json
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from orgs.models import AuditEvent
from orgs.services import database_create
from teams.services import team_create

from .conftest import assert_error, bearer_client, org_url

pytestmark = pytest.mark.django_db


@pytest.fixture
def events(org, admin_user, member, other_org, outsider):
    team_create(org=org, name="Core", actor=admin_user)
    database_create(org=org, name="main", actor=None)
    team_create(org=other_org, name="Other secret team", actor=outsider)
    return AuditEvent.objects.filter(org=org)


def _export(client, org, **params):
    return client.get(org_url(org, "/audit-events/export"), params)


def _ndjson(response) -> list[dict]:
    return [json.loads(line) for line in b"".join(response.streaming_content).splitlines()]


def _csv(response) -> list[dict]:
    return list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode(), newline="")))


def _exports(org):
    return AuditEvent.objects.filter(org=org, event="audit.exported")


def test_csv_and_ndjson_hold_what_the_list_holds(admin_api, org, events):
    listed = admin_api.get(org_url(org, "/audit-events"), {"limit": 200}).json()["results"]
    ndjson = _export(admin_api, org, format="ndjson")
    assert ndjson.status_code == 200 and ndjson["Content-Type"] == "application/x-ndjson"
    today = timezone.now().strftime("%Y-%m-%d")
    assert ndjson["Content-Disposition"] == f'attachment; filename="acme-audit-log-{today}.ndjson"'
    assert ndjson["Cache-Control"] == "no-store"
    rows = _ndjson(ndjson)
    # The export's own event comes first (recorded before the stream); the rest is the list.
    assert rows[0]["event"] == "audit.exported" and rows[0]["new"] == {"format": "ndjson", "filters": {}}
    assert rows[1:] == listed
    exported = _csv(_export(admin_api, org, format="csv"))
    assert [int(row["id"]) for row in exported[2:]] == [row["id"] for row in listed]
    assert "Other secret team" not in json.dumps(rows) + json.dumps(exported)


def test_the_filters_are_the_lists(admin_api, org, events, admin_user):
    now = timezone.now()
    params = {"event": "team.", "since": (now - timedelta(hours=1)).isoformat(), "until": now.isoformat(),
              "actor": "ADA@acme.test"}
    listed = [row["id"] for row in admin_api.get(org_url(org, "/audit-events"), params).json()["results"]]
    assert listed
    exported = [row["id"] for row in _ndjson(_export(admin_api, org, format="ndjson", **params))]
    assert exported == listed  # the export's own event is not a team event
    (record,) = _exports(org)
    assert record.actor == admin_user and record.target_type == "organization"
    assert record.new == {"format": "ndjson", "filters": {
        "event": "team.", "actor": "ADA@acme.test", "since": params["since"], "until": params["until"]}}


def test_a_token_export_names_the_token(admin_token, org, events):
    token, secret = admin_token
    response = _export(bearer_client(secret), org, format="csv")
    assert response.status_code == 200 and response["Content-Type"] == "text/csv; charset=utf-8"
    (record,) = _exports(org)
    assert record.new["service_token_id"] == token.pk and record.actor_label == "ada@acme.test"


@pytest.mark.django_db(transaction=True)
def test_the_export_is_recorded_and_committed_before_the_first_row(admin_api, org, events):
    response = _export(admin_api, org, format="csv")
    assert not connection.in_atomic_block
    assert _exports(org).count() == 1  # nothing of the stream has been read yet
    assert _csv(response)[0]["event"] == "audit.exported"


def test_a_head_request_sends_nothing_and_records_nothing(admin_api, org, events):
    response = admin_api.client.head(org_url(org, "/audit-events/export"), {"format": "ndjson"})
    assert response.status_code == 200 and response["Content-Type"].startswith("application/x-ndjson")
    assert b"".join(response.streaming_content) == b"" and _exports(org).count() == 0


@pytest.mark.parametrize("params,param", [
    ({}, "format"), ({"format": "xlsx"}, "format"), ({"format": "json"}, "format"),
    ({"format": "csv", "since": "yesterday"}, "since"), ({"format": "csv", "until": "2025-13-01"}, "until"),
    ({"format": "csv", "since": "2025-02-01T00:00:00Z", "until": "2025-01-01T00:00:00Z"}, "until"),
    ({"format": "csv", "event": "x" * 300}, "event"), ({"format": "csv", "actor": "a\x00b"}, "actor"),
])
def test_bad_input_is_a_json_400_that_records_nothing(admin_api, org, events, params, param):
    body = assert_error(_export(admin_api, org, **params), 400, "invalid")
    assert param in body["message"] or param in json.dumps(body)
    assert not _exports(org).exists()


def test_the_format_is_the_parameters_not_the_accept_headers(admin_api, org, events):
    response = admin_api.get(org_url(org, "/audit-events/export"), {"format": "csv"}, HTTP_ACCEPT="text/html")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    refused = admin_api.get(org_url(org, "/audit-events/export"), {"format": "pdf"}, HTTP_ACCEPT="text/csv")
    assert_error(refused, 400, "invalid")


def test_only_administrators_of_the_organization_export(member_api, member_token_api, outsider_api, anon_api,
                                                        org, other_org, events):
    assert_error(_export(member_api, org, format="csv"), 403, "permission_denied")
    assert_error(_export(member_token_api, org, format="csv"), 403, "permission_denied")
    assert_error(_export(outsider_api, org, format="csv"), 404, "not_found")
    assert_error(_export(anon_api, org, format="csv"), 401)
    assert not _exports(org).exists() and not _exports(other_org).exists()


def test_the_schema_describes_the_export(anon_api):
    schema = anon_api.get("/api/v1/openapi.json").json()
    operation = schema["paths"]["/api/v1/organizations/{org_slug}/audit-events/export"]["get"]
    assert set(operation["responses"]["200"]["content"]) == {"text/csv", "application/x-ndjson"}
    parameters = {p["name"]: p for p in operation["parameters"]}
    assert parameters["format"]["required"] and parameters["format"]["schema"]["enum"] == ["csv", "ndjson"]
    assert {"event", "since", "until", "actor"} <= set(parameters)
    assert "spreadsheet" in operation["description"] and "audit.exported" in operation["description"]
