"""Hostile or malformed input never produces a 500, and always a SCIM error body."""
import json

import pytest

from .conftest import patch_body, user_body

pytestmark = pytest.mark.django_db

BODIES = [None, 1, "x", [], {}, {"Operations": None}, {"Operations": [1]}, {"Operations": [{"op": 5}]},
          {"Operations": [{"op": "add", "path": 7, "value": 1}]},
          {"Operations": [{"op": "add", "path": "name.givenName.x", "value": 1}]},
          {"Operations": [{"op": "replace", "path": "emails[type eq \"work\"]", "value": 3}]},
          {"Operations": [{"op": "replace", "path": "emails[type eq", "value": 3}]},
          {"Operations": [{"op": "replace", "path": "urn:x:y:", "value": 3}]},
          {"Operations": [{"op": "replace", "value": {"urn:ietf:params:scim:schemas:core:2.0:User": 5}}]},
          {"Operations": [{"op": "replace", "value": {"name.givenName": {"a": 1}}}]},
          {"Operations": [{"op": "replace", "value": {"emails": [1, 2]}}]},
          {"Operations": [{"op": "add", "path": "members", "value": [{"nope": 1}]}]},
          {"Operations": [{"op": "remove", "path": "members[display eq \"x\"]"}]},
          {"Operations": [{"op": "replace", "path": "displayName", "value": None}]},
          {"userName": ["a"]}, {"userName": "a@acme.test", "emails": [{"value": 5}]},
          {"userName": "a@acme.test", "roles": "admin"}, {"displayName": {"x": 1}},
          {"userName": "a@acme.test", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": 3}]


def test_no_500_anywhere(scim):
    user_id = scim.post("Users", user_body("base@acme.test")).json()["id"]
    group_id = scim.post("Groups", {"displayName": "G", "members": [{"value": user_id}]}).json()["id"]
    targets = ["Users", f"Users/{user_id}", "Groups", f"Groups/{group_id}", "Users/.search", "Groups/.search",
               ".search", "Schemas", "ServiceProviderConfig"]
    for path in targets:
        for method in ("POST", "PUT", "PATCH"):
            for body in BODIES:
                response = scim.send(method, path, raw=json.dumps(body))
                assert response.status_code < 500 or response.status_code == 501, (method, path, body,
                                                                                    response.content)
                if response.status_code >= 400:
                    assert response.json()["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:Error"]
    for query in ({"filter": "\x00"}, {"filter": "a" * 5000}, {"startIndex": "x"}, {"count": "1e9"},
                  {"filter": 'emails[value eq "x"]'}, {"filter": "members pr"}, {"attributes": ",,,"},
                  {"excludedAttributes": "name.givenName"}, {"filter": "userName eq \"a\" and (((x"}):
        for path in ("Users", "Groups"):
            response = scim.get(path, **query)
            assert response.status_code < 500, (path, query, response.content)
    assert scim.get(f"Users/{user_id}").json()["userName"] == "base@acme.test"
    assert scim.patch(f"Users/{user_id}", patch_body({"op": "replace", "path": "displayName", "value": "ok"})
                      ).status_code == 200


@pytest.mark.parametrize("depth", [65, 100_000])
def test_deeply_nested_json_is_invalid_syntax(scim, depth):
    # Issue 10: json.loads recursed past the interpreter's limit (RecursionError, 500).
    from scim.models import DirectoryUser

    for path in ("Users", "Groups", "Users/.search"):
        raw = '{"userName": ' + "[" * depth + "]" * depth + "}"
        response = scim.send("POST", path, raw=raw)
        assert response.status_code == 400, response.content[:300]
        body = response.json()
        assert body["status"] == "400" and body["scimType"] == "invalidSyntax"
    assert not DirectoryUser.objects.exists()


@pytest.mark.parametrize("query", [{"startIndex": "100000000000000000000"}, {"startIndex": str(2**63)},
                                   {"count": "100000000000000000000"},
                                   {"startIndex": "100000000000000000000", "count": "100000000000000000000"}])
def test_huge_start_index_and_count_are_clamped(scim, query):
    # Issue 10: startIndex=10^20 was a 500 (bigint out of range / datatype mismatch).
    scim.post("Users", user_body("only@acme.test"))
    for path in ("Users", "Groups"):
        response = scim.get(path, **query)
        assert response.status_code == 200, response.content[:300]
        body = response.json()
        assert body["totalResults"] == (1 if path == "Users" else 0)
        assert len(body["Resources"]) == (0 if "startIndex" in query or path == "Groups" else 1)
    search = scim.post("Users/.search", {"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
                                         **{key: int(value) for key, value in query.items()}})
    assert search.status_code == 200 and search.json()["totalResults"] == 1


@pytest.mark.parametrize("value", [5, {"a": 1}, [1, "userName"], True])
def test_search_attributes_of_the_wrong_type_are_invalid_value(scim, value):
    # Found by tests/scim/test_fuzz_scim.py: a number or object as `attributes` was a 500 ('int'.split).
    for name in ("attributes", "excludedAttributes"):
        for path in ("Users/.search", "Groups/.search"):
            response = scim.post(path, {"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
                                        name: value})
            assert response.status_code == 400, response.content[:300]
            assert response.json()["scimType"] == "invalidValue"
    ok = scim.post("Users/.search", {"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
                                     "attributes": ["userName", "emails"]})
    assert ok.status_code == 200
