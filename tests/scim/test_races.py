"""Concurrency on PostgreSQL: one userName created once; concurrent group PATCHes lose no member."""
import threading

import pytest
from django.db import connection, connections

from scim.models import DirectoryGroupMember, DirectoryUser
from teams.models import TeamMember

from .conftest import ScimClient, patch_body, user_body

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (row locks, concurrent transactions)")


def run_concurrently(n, work):
    barrier = threading.Barrier(n)
    results = [None] * n

    def target(i):
        try:
            barrier.wait()
            results[i] = work(i)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=target, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def test_concurrent_posts_of_one_username(scim):
    def post(i):
        return ScimClient(scim.org, scim.token).post("Users", user_body("race@acme.test")).status_code

    statuses = run_concurrently(8, post)
    assert sorted(statuses) == [201] + [409] * 7, statuses
    assert DirectoryUser.objects.filter(org=scim.org, user_name="race@acme.test").count() == 1


def test_concurrent_group_patches_lose_no_member(scim):
    ids = [scim.post("Users", user_body(f"c{i}@acme.test")).json()["id"] for i in range(16)]
    group_id = scim.post("Groups", {"displayName": "Racers"}).json()["id"]

    def add(i):
        client = ScimClient(scim.org, scim.token)
        return client.patch(f"Groups/{group_id}", patch_body(
            {"op": "add", "path": "members", "value": [{"value": ids[2 * i]}, {"value": ids[2 * i + 1]}]}
        )).status_code

    statuses = run_concurrently(8, add)
    assert statuses == [204] * 8, statuses
    assert DirectoryGroupMember.objects.filter(group_id=group_id).count() == 16
    assert TeamMember.objects.filter(org=scim.org).count() == 16
