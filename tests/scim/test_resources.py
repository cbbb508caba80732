"""scim.resources reads SCIM documents without the database: a Group PATCH's operations
as Okta and Entra send them → GroupPatch; a User's search email."""
import pytest

from scim.errors import ScimError
from scim.resources import GroupPatch, UserFields, parse_group_patch, parse_operations


def patch(*operations) -> GroupPatch:
    return parse_group_patch(parse_operations({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                                               "Operations": list(operations)}))


def members(*ids):
    return [{"value": str(i)} for i in ids]


@pytest.mark.parametrize("operations, expected", [
    # Okta renames with a path-less replace echoing the id; the name's whitespace is collapsed.
    ([{"op": "replace", "value": {"id": "7", "displayName": "  Site   Reliability "}}],
     GroupPatch(display_name="Site Reliability")),
    ([{"op": "replace", "path": "displayName", "value": "Ops"}, {"op": "replace", "path": "externalId",
                                                                 "value": "ext-1"}],
     GroupPatch(display_name="Ops", external_id="ext-1")),
    ([{"op": "remove", "path": "externalId"}], GroupPatch(external_id="")),
    # Okta adds with a members list, removes with a filter (several joined with or).
    ([{"op": "add", "path": "members", "value": members(1, 2)}], GroupPatch(add_members=[1, 2])),
    ([{"op": "remove", "path": 'members[value eq "3" or value eq "4"]'}], GroupPatch(remove_members=[3, 4])),
    # Entra: Remove of `members` with a value list; `Add` capitalised.
    ([{"op": "Add", "path": "members", "value": members(1)}, {"op": "Remove", "path": "members",
                                                               "value": members(2)}],
     GroupPatch(add_members=[1], remove_members=[2])),
    # In order: a later remove undoes an earlier add, and the other way round.
    ([{"op": "add", "path": "members", "value": members(1, 2)},
      {"op": "remove", "path": 'members[value eq "1"]'}], GroupPatch(add_members=[2], remove_members=[1])),
    # A replace sets the whole list; what follows it changes that list.
    ([{"op": "add", "path": "members", "value": members(9)}, {"op": "replace", "path": "members",
                                                               "value": members(1, 2, 2, 3)},
      {"op": "remove", "path": 'members[value eq "2"]'}, {"op": "add", "path": "members", "value": members(4)}],
     GroupPatch(replace_members=[1, 3, 4])),
    ([{"op": "remove", "path": "members"}], GroupPatch(replace_members=[])),
    ([{"op": "replace", "value": {"members": members(5)}}], GroupPatch(replace_members=[5])),
    ([{"op": "add", "value": {"members": members(5)}}], GroupPatch(add_members=[5])),
    ([{"op": "remove", "path": 'members[value eq "abc"]'}], GroupPatch()),  # matches nothing
])
def test_group_patch_forms(operations, expected):
    assert patch(*operations) == expected


def test_what_a_group_patch_changes():
    assert not GroupPatch().fields_changed and not GroupPatch().members_changed
    assert GroupPatch(external_id="").fields_changed and GroupPatch(replace_members=[]).members_changed
    assert GroupPatch(remove_members=[1]).members_changed and not GroupPatch(remove_members=[1]).fields_changed


@pytest.mark.parametrize("operation, scim_type", [
    ({"op": "remove", "path": "displayName"}, "mutability"),
    ({"op": "replace", "path": "displayName", "value": ""}, "invalidValue"),
    ({"op": "replace", "path": "displayName", "value": "x" * 101}, "invalidValue"),
    ({"op": "replace", "path": "id", "value": "5"}, "mutability"),
    ({"op": "replace", "path": "nickName", "value": "x"}, "invalidPath"),
    ({"op": "replace", "path": "urn:ietf:params:scim:schemas:extension:x:2.0:Group:y", "value": "x"}, "invalidPath"),
    ({"op": "add", "path": 'members[value eq "1"]', "value": members(1)}, "invalidPath"),
    ({"op": "remove", "path": 'members[display eq "x"]'}, "invalidPath"),
    ({"op": "add", "path": "members", "value": members("abc")}, "invalidValue"),
    ({"op": "replace", "value": "not an object"}, "invalidValue"),
    ({"op": "replace", "value": {"nickName": "x"}}, "invalidPath"),
])
def test_group_patches_that_cannot_apply_are_400(operation, scim_type):
    with pytest.raises(ScimError) as refused:
        patch(operation)
    assert (refused.value.status, refused.value.scim_type) == (400, scim_type)


@pytest.mark.parametrize("emails, expected", [
    ([{"value": "A@x.test"}, {"value": "B@x.test", "primary": "true"}, {"value": "C@x.test", "type": "Work"}],
     "c@x.test"),
    ([{"value": "A@x.test"}, {"value": "B@x.test", "primary": True}], "b@x.test"),
    ([{"type": "work"}, {"value": "A@x.test"}], "a@x.test"),
    ([], ""),
])
def test_the_search_email_is_the_work_then_primary_then_first_address(emails, expected):
    assert UserFields(user_name="u", email="", emails=emails).search_email == expected
