"""The error format, and bad input: always a JSON 4xx with a stable code, never a 500, nothing changed."""
import json

import pytest

from orgs.models import AuditEvent
from teams.models import Team

from .conftest import API, JSONClient, assert_error, org_url

pytestmark = pytest.mark.django_db


@pytest.fixture
def counts(org):
    def snapshot():
        return Team.objects.count(), AuditEvent.objects.count()

    return snapshot


@pytest.mark.parametrize("raw", ["{", '{"name": }', "not json", '{"name": NaN}', "\xff\xfe"])
def test_malformed_json_is_400(admin_api, org, counts, raw):
    before = counts()
    response = admin_api.post(org_url(org, "/teams"), raw=raw)
    assert_error(response, 400, "malformed_json")
    assert counts() == before


@pytest.mark.parametrize("depth", [65, 5_000, 100_000])
def test_deeply_nested_json_is_400_not_a_recursion_error(admin_api, org, counts, depth):
    # Issue 10: json.loads recursed past the interpreter's limit (RecursionError, 500).
    before = counts()
    for raw in ("[" * depth + "]" * depth, '{"name": ' + '{"a": ' * depth + "1" + "}" * depth + "}"):
        body = assert_error(admin_api.post(org_url(org, "/teams"), raw=raw), 400, "malformed_json")
        assert "deeper than 64" in body["message"]
    assert counts() == before


@pytest.mark.parametrize("raw", ["[]", '"Core"', "42", "null"])
def test_json_that_is_not_an_object_is_400(admin_api, org, counts, raw):
    before = counts()
    body = assert_error(admin_api.post(org_url(org, "/teams"), raw=raw), 400, "invalid")
    assert "details" in body
    assert counts() == before


def test_unknown_field_is_400_and_named(admin_api, org, counts):
    before = counts()
    body = assert_error(admin_api.post(org_url(org, "/teams"), {"name": "Core", "colour": "red"}), 400,
                        "unknown_field")
    assert body["details"] == {"colour": ["Unknown field."]}
    assert counts() == before


def test_validation_error_has_field_details(admin_api, org, counts):
    before = counts()
    body = assert_error(admin_api.post(org_url(org, "/teams"), {}), 400, "invalid")
    assert "name" in body["details"]
    body = assert_error(admin_api.post(org_url(org, "/teams"), {"name": "x" * 101}), 400, "invalid")
    assert "name" in body["details"]
    assert counts() == before


def test_oversized_body_is_413(admin_api, org, counts, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    before = counts()
    response = admin_api.post(org_url(org, "/teams"), {"name": "x" * 2000})
    assert_error(response, 413, "too_large")
    assert counts() == before


def test_parser_reads_no_more_than_the_limit_whatever_the_declared_length(settings):
    # A stream longer than its declared Content-Length must not be read past the limit.
    import io
    from types import SimpleNamespace

    from api.errors import TooLarge
    from api.parsers import LimitedJSONParser

    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    stream = io.BytesIO(json.dumps({"name": "y" * 5000}).encode())
    context = {"request": SimpleNamespace(META={"CONTENT_LENGTH": "10"}), "encoding": "utf-8"}
    with pytest.raises(TooLarge):
        LimitedJSONParser().parse(stream, "application/json", context)
    assert stream.tell() == 1001
    assert LimitedJSONParser().parse(io.BytesIO(b'{"a": 1}'), "application/json", context) == {"a": 1}


def test_django_request_data_too_big_is_413_json():
    # RequestDataTooBig is what Django raises when request.body goes over the limit.
    from django.core.exceptions import RequestDataTooBig

    from api.errors import exception_handler

    response = exception_handler(RequestDataTooBig("too big"), {})
    assert response.status_code == 413 and response.data["code"] == "too_large"


def test_wrong_content_type_is_415(admin_api, org, counts):
    before = counts()
    response = admin_api.post(org_url(org, "/teams"), raw="name=Core", content_type="application/x-www-form-urlencoded")
    assert_error(response, 415, "unsupported_media_type")
    assert counts() == before


def test_method_not_allowed_is_405(admin_api, org):
    assert_error(admin_api.put(org_url(org, "/teams"), {"name": "x"}), 405, "method_not_allowed")


def test_unknown_member_id_is_404_json(admin_api, org):
    assert_error(admin_api.get(org_url(org, "/members/999999")), 404, "not_found")


def test_service_error_maps_to_status_and_code(admin_api, org, admin_membership):
    # The last administrator cannot be demoted: a rule of the service, 4xx with its code.
    response = admin_api.delete(org_url(org, f"/members/{admin_membership.pk}"))
    assert_error(response, 409, "last_admin")


@pytest.mark.parametrize("params", [{"limit": "abc"}, {"limit": "-5"}, {"offset": "zz"}, {"limit": "0"},
                                    {"offset": "-1"}, {"limit": "100000"}, {"offset": "100000000000000000000"},
                                    {"limit": "100000000000000000000"}, {"offset": "9" * 5000}])
def test_bad_pagination_parameters_fall_back_to_defaults(admin_api, org, params):
    response = admin_api.get(org_url(org, "/members"), params)
    assert response.status_code == 200
    assert response.json()["count"] == 1


def test_pagination_limits_and_links(admin_api, org, settings):
    from teams.services import team_create

    for i in range(5):
        team_create(org=org, name=f"team {i}", actor=None)
    settings.ALLOWED_HOSTS = ["testserver", "internal.example"]
    body = admin_api.get(org_url(org, "/teams"), {"limit": 2}, HTTP_HOST="internal.example").json()
    assert body["count"] == 5 and len(body["results"]) == 2 and body["previous"] is None
    assert body["next"].startswith(settings.BASE_URL + "/api/v1/organizations/acme/teams?")
    assert "offset=2" in body["next"]
    body = admin_api.get(org_url(org, "/teams"), {"limit": 2, "offset": 4}).json()
    assert len(body["results"]) == 1 and body["next"] is None and "offset=2" in body["previous"]


def test_default_and_max_page_size(admin_api, org):
    from teams.models import Team

    Team.objects.bulk_create([Team(org=org, name=f"t{i:03}") for i in range(230)])
    assert len(admin_api.get(org_url(org, "/teams")).json()["results"]) == 50
    assert len(admin_api.get(org_url(org, "/teams"), {"limit": 500}).json()["results"]) == 200


def test_anonymous_error_is_json(anon_api):
    response = anon_api.get(f"{API}/organizations")
    assert_error(response, 401, "not_authenticated")


@pytest.mark.parametrize("path", [f"{API}/nope", f"{API}/user/", f"{API}/organizations/acme/members/",
                                  f"{API}/organizations/acme/widgets", f"{API}/organizations/%0A/teams",
                                  f"{API}/organizations/acme/teams/%0A"])
def test_unknown_api_url_is_json_404(admin_api, org, path):
    assert_error(admin_api.get(path), 404, "not_found")
    assert_error(admin_api.post(path, {"a": 1}), 404, "not_found")


def test_options_is_405_not_500(admin_api, org):
    response = admin_api.client.options(org_url(org, "/teams"))
    assert_error(response, 405, "method_not_allowed")


def test_head_works_on_reads(admin_api, org):
    assert admin_api.client.head(org_url(org, "/members")).status_code == 200


@pytest.mark.parametrize("exc,status,code", [
    ("Throttled", 429, "throttled"),
    ("NotAcceptable", 406, "not_acceptable"),
    ("PermissionDenied", 403, "permission_denied"),
])
def test_handler_maps_drf_exceptions(exc, status, code):
    from rest_framework import exceptions

    from api.errors import exception_handler

    instance = getattr(exceptions, exc)(wait=12) if exc == "Throttled" else getattr(exceptions, exc)()
    response = exception_handler(instance, {})
    assert response.status_code == status and response.data["code"] == code and response.data["message"]
    if exc == "Throttled":
        assert response["Retry-After"] == "12"


def test_handler_maps_django_errors_and_leaves_bugs_alone():
    from django.core.exceptions import PermissionDenied
    from django.http import Http404

    from api.errors import exception_handler
    from config.errors import Conflict

    assert exception_handler(Http404(), {}).status_code == 404
    assert exception_handler(PermissionDenied(), {}).status_code == 403
    response = exception_handler(Conflict("Taken.", code="name_taken"), {})
    assert (response.status_code, response.data) == (409, {"code": "name_taken", "message": "Taken."})
    assert exception_handler(KeyError("bug"), {}) is None


@pytest.mark.parametrize("path, params", [("/audit-events", {"event": "member.\x00"}),
                                          ("/audit-events", {"actor": "\x00"}),
                                          ("/invitations", {"status": "pending\x00"}),
                                          ("/members", {"x\x00": "1"})])
def test_nul_in_a_query_parameter_is_400(admin_api, org, path, params):
    # Found by tests/api/test_fuzz_api.py on PostgreSQL: text with NUL is a DataError there (a 500).
    body = assert_error(admin_api.get(org_url(org, path), params), 400, "invalid")
    assert "NUL" in body["message"]
