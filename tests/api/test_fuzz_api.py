"""Schemathesis drives every operation of the API's own OpenAPI schema (SPEC §6, issue 10).

The schema is drf-spectacular's, as /api/v1/openapi.json serves it, so an endpoint added
later is fuzzed without anyone listing it. Each operation is called as an administrator
signed in with a session (an organization without SSO, so no IdP session is needed, E12)
and with the administrator's service token; path parameters are this world's real ids
most of the time, so requests get past the lookups. Cases fit the schema (positive) or
break it (negative). Every answer is < 500; every 4xx is the API's JSON error
`{"code", "message"}` and changed no row. Outbound fetches (an SSO metadata URL) fail
fast: the fuzzer never reaches the network. See tests/fuzzing.py for the example count.
"""
import json
import re
import socket

import pytest
import requests
import schemathesis
from django.test import Client
from drf_spectacular.generators import SchemaGenerator
from hypothesis import given
from hypothesis import strategies as st
from schemathesis import GenerationMode

from ..conftest import client_for
from ..fuzzing import changed, fuzz_settings, rolled_back, rows
from .conftest import API

pytestmark = pytest.mark.django_db

SCHEMA = schemathesis.openapi.from_dict(json.loads(json.dumps(SchemaGenerator().get_schema(request=None, public=True),
                                                              default=str)))
OPERATIONS = [result.ok() for result in SCHEMA.get_all_operations()]
HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
# Set by the test itself (auth, body), or by a client rather than by an application.
DROPPED_HEADERS = {"authorization", "cookie", "content-type", "content-length", "host", "connection"}


@pytest.fixture
def world(org, acme_objects, other_world):
    """Every kind of object in the fuzzed organization; `other_world` in the other one."""
    known = {"org_slug": org.slug, "membership_id": acme_objects["member"], "team_id": acme_objects["team"],
             "database_name": acme_objects["database"], "password_id": acme_objects["password"],
             "invitation_id": acme_objects["invitation"], "token_id": acme_objects["token"]}
    return {"known": known, "token": acme_objects["token_secret"]}


@pytest.fixture(autouse=True)
def _no_outbound_fetches(monkeypatch):
    real = socket.getaddrinfo

    def local_only(host, *args, **kwargs):
        if host not in ("127.0.0.1", "localhost", "::1"):
            raise socket.gaierror(socket.EAI_NONAME, "fuzzing: no outbound lookups")
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", local_only)


def _strategy(operation, known: dict):
    names = re.findall(r"{(\w+)}", operation.path)
    real = {name: known[name] for name in names if name in known}
    return st.one_of(operation.as_strategy(GenerationMode.POSITIVE, path_parameters=real),
                     operation.as_strategy(GenerationMode.NEGATIVE, path_parameters=real),
                     operation.as_strategy(GenerationMode.POSITIVE))


def send(client: Client, case, extra_headers: dict):
    """The case through Django's test client (in-process, in the test's transaction)."""
    kwargs = case.as_transport_kwargs(base_url="http://testserver")
    prepared = requests.Request(method=kwargs["method"], url=kwargs["url"], params=kwargs.get("params"),
                                json=kwargs.get("json"), data=kwargs.get("data"),
                                headers=kwargs.get("headers")).prepare()
    headers = {name: value for name, value in prepared.headers.items()
               if name.lower() not in DROPPED_HEADERS and HEADER_NAME.fullmatch(name)
               and value.isprintable() and value.isascii()}
    body = prepared.body or b""
    return client.generic(prepared.method, prepared.path_url, body.encode() if isinstance(body, str) else body,
                          content_type=prepared.headers.get("Content-Type", ""), headers={**headers, **extra_headers})


def test_every_operation_of_the_served_schema_is_fuzzed(anon_api):
    served = anon_api.get(f"{API}/openapi.json").json()["paths"]
    assert {(path, method.upper()) for path, item in served.items() for method in item} == {
        (operation.path, operation.method.upper()) for operation in OPERATIONS}


@pytest.mark.parametrize("auth", ["session", "token"])
@pytest.mark.parametrize("operation", OPERATIONS, ids=lambda operation: operation.label)
def test_no_500_and_errors_are_json(operation, auth, world, admin_user):
    client, headers = (client_for(admin_user), {}) if auth == "session" else (
        Client(), {"Authorization": f"Bearer {world['token']}"})
    before = rows()

    @fuzz_settings()
    @given(case=_strategy(operation, world["known"]))
    def run(case):
        with rolled_back():
            response = send(client, case, headers)
            assert response.status_code < 500, (response.status_code, response.content[:500])
            if response.status_code >= 400:
                assert response["Content-Type"].startswith("application/json"), response.content[:300]
                body = response.json()
                assert isinstance(body.get("code"), str) and isinstance(body.get("message"), str), body
                assert not changed(before, rows()), changed(before, rows())

    run()
