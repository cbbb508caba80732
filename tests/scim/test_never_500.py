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
