"""Hypothesis drives SCIM with generated input (SPEC §6–§7, issue 10): Users and Groups
bodies of every shape, PATCH operations with odd ops, paths and values, filters built
from the grammar and from noise, pagination parameters of any size, raw bodies (bytes,
deep nesting), foreign and unknown ids, paths and tokens. Every answer is < 500 (the
root /.search's deliberate 501 aside); every 4xx is RFC 7644 error JSON (`schemas`, and
`status` as a string equal to the HTTP status) and changed no row. Each example rolls
back to the same world: a directory with a user and a group, and another organization's.
"""
import json

import pytest
from django.test import Client
from hypothesis import given
from hypothesis import strategies as st

from ..fuzzing import changed, fuzz_settings, rolled_back, rows
from .conftest import patch_body, provision

pytestmark = pytest.mark.django_db

ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"
USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Group"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
PATCH_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
SEARCH_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:SearchRequest"

scalars = st.none() | st.booleans() | st.integers() | st.integers(min_value=-(2**70), max_value=2**70) | \
    st.floats(allow_nan=False) | st.text(max_size=20)
json_values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4)
                           | st.dictionaries(st.text(max_size=12), inner, max_size=4), max_leaves=12)
emails = st.emails() | st.sampled_from(["base@acme.test", "olga@other.test", "ada@acme.test", "", "a@", "@b",
                                        "ADA@ACME.TEST", "x" * 300 + "@acme.test", "a\x00@acme.test"])
email_lists = st.lists(st.fixed_dictionaries({"value": emails | json_values},
                                             optional={"primary": st.booleans() | json_values,
                                                       "type": st.sampled_from(["work", "home"]) | json_values}),
                       max_size=3)
roles = st.lists(st.fixed_dictionaries({"value": st.sampled_from(["admin", "member", "owner", ""]) | json_values},
                                       optional={"primary": st.booleans()}), max_size=2)
USER_VALUES = {
    "schemas": st.just([USER_SCHEMA]) | st.just([USER_SCHEMA, ENTERPRISE]) | json_values,
    "userName": emails | json_values, "emails": email_lists | json_values,
    "name": st.fixed_dictionaries({}, optional={"givenName": st.text(max_size=30) | json_values,
                                                "familyName": st.text(max_size=30) | json_values}) | json_values,
    "displayName": st.text(max_size=300) | json_values, "active": st.booleans() | json_values,
    "externalId": st.text(max_size=300) | json_values, "roles": roles | json_values,
    ENTERPRISE: st.fixed_dictionaries({}, optional={"department": st.text(max_size=20) | json_values,
                                                    "manager": json_values}) | json_values,
    "id": json_values, "meta": json_values, "groups": json_values, "password": json_values,
}
user_bodies = st.fixed_dictionaries({}, optional=USER_VALUES) | st.dictionaries(
    st.sampled_from(sorted(USER_VALUES)) | st.text(max_size=12), json_values, max_size=5) | json_values

USER_PATHS = ["active", "displayName", "name.givenName", "name.familyName", "name", "emails", "userName",
              'emails[type eq "work"].value', 'emails[type eq "work"]', "emails[primary eq true].value", "roles",
              'roles[value eq "admin"]', "externalId", "title", f"{ENTERPRISE}:department", f"{ENTERPRISE}:manager",
              f"{USER_SCHEMA}:active", "meta.lastModified", "id", "groups", "emails[", "name..givenName", ""]
GROUP_PATHS = ["members", "displayName", "externalId", 'members[value eq "{user}"]', 'members[value eq "{other}"]',
               "members[value pr]", "members.value", "id", "members[display eq \"x\"].value", ""]


def patch_ops(paths, member_values):
    values = json_values | member_values | user_bodies
    operation = st.fixed_dictionaries(
        {"op": st.sampled_from(["add", "replace", "remove", "Add", "REPLACE", "Remove", "copy", ""]) | json_values},
        optional={"path": st.sampled_from(paths) | st.text(max_size=40) | json_values, "value": values})
    return st.fixed_dictionaries({"Operations": st.lists(operation | json_values, max_size=4) | json_values},
                                 optional={"schemas": st.just([PATCH_SCHEMA]) | json_values}) | json_values


FILTER_ATTRIBUTES = ["userName", "emails.value", "emails", "externalId", "displayName", "members.value", "members",
                     "id", "meta.lastModified", "meta.created", "name.givenName", "active", 'emails[type eq "work"]',
                     f"{ENTERPRISE}:department", f"{USER_SCHEMA}:userName", "x.y.z", ""]
FILTER_OPERATORS = ["eq", "ne", "co", "sw", "ew", "gt", "lt", "ge", "le", "pr", "EQ", "Eq", "in", ""]
filter_values = st.sampled_from(['"base@acme.test"', "true", "false", "null", "12", '""', '"\\""', "1e999",
                                 '"2020-01-01T00:00:00Z"', '"' + "a" * 300 + '"']) \
    | st.text(max_size=20).map(json.dumps) | st.text(max_size=10)
comparisons = st.builds(lambda a, o, v: f"{a} {o} {v}".strip(), st.sampled_from(FILTER_ATTRIBUTES),
                        st.sampled_from(FILTER_OPERATORS), filter_values)
filters = st.recursive(comparisons, lambda inner: st.builds("{} and {}".format, inner, inner)
                       | st.builds("{} or {}".format, inner, inner) | st.builds("not ({})".format, inner)
                       | st.builds("({})".format, inner), max_leaves=4) | st.text(max_size=60)
paging = st.integers() | st.integers(min_value=-(2**80), max_value=2**80) | st.text(max_size=8) \
    | st.sampled_from(["100000000000000000000", "-1", "0", "1e9", " 5 ", "0x10", "9" * 5000])
list_queries = st.fixed_dictionaries({}, optional={
    "filter": filters, "startIndex": paging, "count": paging, "sortBy": st.text(max_size=10),
    "attributes": st.sampled_from(["userName", "emails.value,name", ",,,", "members", "x"]) | st.text(max_size=20),
    "excludedAttributes": st.sampled_from(["members", "emails", "name.givenName", "x"]) | st.text(max_size=20)})
search_bodies = st.fixed_dictionaries({}, optional={
    "schemas": st.just([SEARCH_SCHEMA]) | json_values, "filter": filters | json_values,
    "startIndex": paging | json_values, "count": paging | json_values,
    "attributes": st.lists(st.sampled_from(["userName", "members", "emails.value"]) | st.text(max_size=10),
                           max_size=3) | json_values,
    "excludedAttributes": json_values}) | json_values


@pytest.fixture(autouse=True)
def _no_rate_limit(settings):
    settings.SCIM_RATE_LIMIT = 0


@pytest.fixture
def world(scim, other_scim):
    user_id = provision(scim, "base@acme.test")
    group = scim.post("Groups", {"schemas": [GROUP_SCHEMA], "displayName": "Base", "members": [{"value": user_id}]})
    assert group.status_code == 201, group.content
    other_user = provision(other_scim, "olga.dir@other.test")
    return {"scim": scim, "user": user_id, "group": group.json()["id"], "other_user": other_user,
            "before": rows()}


def assert_scim_answer(response, world, *, allow_501=False):
    """< 500; a 4xx is SCIM error JSON and left every row as it was."""
    status = response.status_code
    assert status < 500 or (allow_501 and status == 501), (status, response.content[:500])
    if status >= 400:
        body = response.json()
        assert body["schemas"] == [ERROR] and body["status"] == str(status), body
        assert "scimType" not in body or isinstance(body["scimType"], str), body
        assert not changed(world["before"], rows()), changed(world["before"], rows())


def resource_paths(world, kind):
    ids = [world["user"], world["group"], world["other_user"], "0", "not-an-id", "%0A", "../Users", "1" * 40]
    return st.sampled_from([kind, f"{kind}/"] + [f"{kind}/{resource_id}" for resource_id in ids])


def member_values(world):
    member = st.fixed_dictionaries({"value": st.sampled_from([world["user"], world["other_user"], "nope", ""])
                                    | json_values}, optional={"display": json_values})
    return st.lists(member, max_size=3)


def _fuzz_writes(world, kind, bodies, patches):
    """POST, PUT and PATCH of `kind` (the collection, our ids, another organization's, unknown ones)."""
    scim = world["scim"]

    @fuzz_settings()
    @given(method=st.sampled_from(["POST", "PUT", "PATCH"]), path=resource_paths(world, kind), body=bodies,
           patch=patches)
    def run(method, path, body, patch):
        with rolled_back():
            assert_scim_answer(scim.send(method, path, patch if method == "PATCH" else body), world)

    run()


def test_users_write_fuzz(world):
    _fuzz_writes(world, "Users", user_bodies, patch_ops(USER_PATHS, member_values(world)))


def test_groups_write_fuzz(world):
    paths = [path.format(user=world["user"], other=world["other_user"]) for path in GROUP_PATHS]
    group_bodies = st.fixed_dictionaries({}, optional={
        "schemas": st.just([GROUP_SCHEMA]) | json_values, "displayName": st.text(max_size=300) | json_values,
        "externalId": st.text(max_size=40) | json_values, "members": member_values(world) | json_values,
        "id": json_values}) | json_values
    _fuzz_writes(world, "Groups", group_bodies, patch_ops(paths, member_values(world)))


def test_lists_filters_and_pagination_fuzz(world):
    scim = world["scim"]

    @fuzz_settings()
    @given(kind=st.sampled_from(["Users", "Groups"]), query=list_queries)
    def run(kind, query):
        with rolled_back():
            assert_scim_answer(scim.get(kind, **query), world)

    run()


def test_search_bodies_fuzz(world):
    scim = world["scim"]

    @fuzz_settings()
    @given(path=st.sampled_from(["Users/.search", "Groups/.search", ".search"]), body=search_bodies)
    def run(path, body):
        with rolled_back():
            assert_scim_answer(scim.post(path, body), world, allow_501=path == ".search")

    run()


raw_bodies = st.binary(max_size=200) | st.text(max_size=200).map(str.encode) | st.integers(1, 3000).map(
    lambda depth: ("[" * depth + "]" * depth).encode()) | st.integers(1, 3000).map(
    lambda depth: ('{"userName": ' + '{"a": ' * depth + "1" + "}" * depth + "}").encode()) | \
    json_values.map(lambda value: json.dumps(value).encode())


def test_raw_requests_fuzz(world, directory_token, other_scim):
    """Any method, path, content type, token and body bytes."""
    tokens = st.sampled_from([f"Bearer {directory_token}", f"Bearer {other_scim.token}", "Bearer ", "Basic abc",
                              f"bearer {directory_token}", ""]) | st.text(max_size=30)
    paths = st.sampled_from(["Users", "Groups", "Users/.search", "Schemas", "ResourceTypes/User",
                             "ServiceProviderConfig", f"Users/{world['user']}", f"Groups/{world['group']}",
                             "Bulk", "Me", "%0A", "Users/%0A/x", "a%0Ab", ""]) | st.text(max_size=20)
    methods = st.sampled_from(["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"])
    content_types = st.sampled_from(["application/scim+json", "application/json", "text/plain",
                                     "application/scim+json; charset=latin-1", "multipart/form-data", ""])

    @fuzz_settings()
    @given(method=methods, path=paths, content_type=content_types, token=tokens, body=raw_bodies,
           org=st.sampled_from(["acme", "other", "nope"]))
    def run(method, path, content_type, token, body, org):
        from urllib.parse import quote

        url = f"/scim/v2/{org}/" + (path if "%" in path else quote(path))
        headers = {"Authorization": token} if token.isascii() and token.isprintable() else {}
        with rolled_back():
            response = Client().generic(method, url, body, content_type=content_type, headers=headers)
            assert_scim_answer(response, world, allow_501=path.rstrip("/") == ".search")

    run()


def test_a_rejected_patch_changes_nothing_even_after_valid_operations(world):
    """Operations are all-or-nothing: a valid first operation and a broken second one leave the user as it was."""
    scim = world["scim"]
    before = scim.get(f"Users/{world['user']}").json()
    response = scim.patch(f"Users/{world['user']}", patch_body(
        {"op": "replace", "path": "displayName", "value": "Changed"},
        {"op": "replace", "path": "emails[type eq", "value": 3}))
    assert_scim_answer(response, world)
    assert response.status_code == 400
    assert scim.get(f"Users/{world['user']}").json() == before
