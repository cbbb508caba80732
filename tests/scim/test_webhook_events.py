"""Directory changes reach the webhook outbox (orgs.events, issue 14 item 2): a SCIM group
PATCH of +256 members costs the statements of a PATCH of +2 and writes one event naming
the users; provisioning writes `member.added` and `directory.user_created` events."""
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from orgs.models import OrgEvent

from .conftest import patch_body, user_body
from .test_groups import make_group, make_users

pytestmark = pytest.mark.django_db


def _add(scim, group, ids):
    with CaptureQueriesContext(connection) as captured:
        response = scim.patch(f"Groups/{group['id']}", patch_body({"op": "add", "path": "members",
                                                                   "value": [{"value": i} for i in ids]}))
    assert response.status_code in (200, 204), response.content
    return len(captured.captured_queries)


@pytest.mark.postgres  # SQLite's ORM path inserts per batch of its parameter limit
def test_a_patch_of_256_members_writes_one_event_in_constant_statements(scim):
    ids = make_users(scim, 260)
    group = make_group(scim, members=ids[:2])
    few = _add(scim, group, ids[2:4])
    many = _add(scim, group, ids[4:260])
    assert many == few
    events = list(OrgEvent.objects.filter(org=scim.org, type="directory.group_members_changed")
                  .select_related("audit").order_by("pk"))
    assert len(events) == 2
    assert events[-1].audit.new["added"] == 256
    assert events[-1].audit.new["added_ids"] == sorted(str(i) for i in ids[4:260])
    assert events[-1].audit.target_id == str(group["id"])


def test_removing_members_names_them(scim):
    ids = make_users(scim, 3)
    group = make_group(scim, members=ids)
    scim.patch(f"Groups/{group['id']}", patch_body({"op": "remove", "path": f'members[value eq "{ids[1]}"]'}))
    event = OrgEvent.objects.filter(org=scim.org, type="directory.group_members_changed").select_related("audit") \
        .last()
    assert event.audit.new["removed_ids"] == [str(ids[1])]


def test_provisioning_writes_the_membership_and_directory_events(scim):
    response = scim.post("Users", user_body("jo@acme.test"))
    assert response.status_code == 201
    types = list(OrgEvent.objects.filter(org=scim.org).order_by("pk").values_list("type", flat=True))
    assert types[-2:] == ["member.added", "directory.user_created"]
    user_id = response.json()["id"]
    scim.patch(f"Users/{user_id}", {"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                                     "Operations": [{"op": "replace", "path": "active", "value": False}]})
    last = list(OrgEvent.objects.filter(org=scim.org).order_by("pk").select_related("audit"))[-2:]
    assert {e.type for e in last} == {"member.removed", "directory.user_deactivated"}
    deactivated = next(e for e in last if e.type == "directory.user_deactivated")
    assert deactivated.audit.old["active"] is True and deactivated.audit.new["active"] is False
