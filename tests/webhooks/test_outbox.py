"""The webhook outbox (orgs.events): an event is written in the transaction of the change,
one INSERT more; set-based paths write theirs set-based; the sequencer numbers events
after commit, so a cursor cannot skip one whose transaction committed late (PostgreSQL)."""
import threading

import pytest
from django.db import connection, connections, transaction
from django.test.utils import CaptureQueriesContext

from orgs import events
from orgs.models import AuditEvent, Membership, OrgEvent, OrgEventSequence
from orgs.services import membership_change_role, membership_remove_batch
from teams.services import team_create

from .conftest import numbered


def _writes(captured) -> list[str]:
    return [q["sql"] for q in captured.captured_queries if q["sql"].lstrip().upper().startswith(("INSERT", "UPDATE",
                                                                                                   "DELETE"))]


def test_a_membership_change_costs_one_insert_more(org, admin_user, member, monkeypatch):
    """The same role change with and without its type carried: one statement apart, an INSERT
    of the event, in the change's transaction."""
    from orgs.services import membership_add
    from tests.conftest import make_user

    second = membership_add(org=org, user=make_user("sam@acme.test"), role=Membership.Role.MEMBER, actor=None)
    with CaptureQueriesContext(connection) as carried:
        membership_change_role(org=org, membership=member, role=Membership.Role.ADMIN, actor=admin_user)
    monkeypatch.setattr(events, "_carried", {k: v for k, v in events._carried.items() if k != "member.role_changed"})
    with CaptureQueriesContext(connection) as not_carried:
        membership_change_role(org=org, membership=second, role=Membership.Role.ADMIN, actor=admin_user)
    assert len(carried.captured_queries) == len(not_carried.captured_queries) + 1
    [extra] = [q for q in _writes(carried) if OrgEvent._meta.db_table in q]
    assert extra.lstrip().startswith("INSERT") and not any(OrgEvent._meta.db_table in q for q in _writes(not_carried))
    event = OrgEvent.objects.select_related("audit").get(org=org, type="member.role_changed")
    assert event.seq is None and event.audit.old == {"role": "member"} and event.audit.new == {"role": "admin"}


def test_a_rolled_back_change_leaves_no_event(org, admin_user):
    before = OrgEvent.objects.count()
    with pytest.raises(RuntimeError), transaction.atomic():
        team_create(org=org, name="Gone", actor=admin_user)
        raise RuntimeError
    assert OrgEvent.objects.count() == before


def test_audit_only_types_make_no_event(org, admin_user):
    from orgs.services import database_create

    database_create(org=org, name="main", actor=admin_user)
    assert AuditEvent.objects.filter(event="database.created").exists()
    assert not OrgEvent.objects.filter(type="database.created").exists()


def test_a_batch_of_removals_writes_its_events_in_one_insert(org, admin_user):
    from tests.conftest import make_user
    from orgs.services import membership_add

    users = [make_user(f"m{i}@acme.test") for i in range(20)]
    for user in users:
        membership_add(org=org, user=user, role=Membership.Role.MEMBER, actor=None)
    with CaptureQueriesContext(connection) as captured:
        membership_remove_batch(org=org, user_ids=[u.pk for u in users], actor=None, reason="sso_enabled")
    assert len([q for q in _writes(captured) if OrgEvent._meta.db_table in q]) == 1
    removed = OrgEvent.objects.filter(org=org, type="member.removed").select_related("audit")
    assert sorted(e.audit.target_label for e in removed) == sorted(u.email for u in users)


def test_the_sequencer_numbers_in_id_order_once(org, admin_user):
    for name in ("a", "b", "c"):
        team_create(org=org, name=name, actor=admin_user)
    first = numbered(org)
    assert first >= 3 and numbered(org) == 0
    seqs = list(OrgEvent.objects.filter(org=org).order_by("pk").values_list("seq", flat=True))
    assert seqs == list(range(1, len(seqs) + 1))
    assert events.last_seq(org.pk) == len(seqs)


def test_the_sequencer_works_in_batches(org, admin_user):
    for name in "abcde":
        team_create(org=org, name=name, actor=admin_user)
    total = events.sequence(org.pk, batch=2)
    seqs = list(OrgEvent.objects.filter(org=org).order_by("pk").values_list("seq", flat=True))
    assert total == len(seqs) and seqs == list(range(1, len(seqs) + 1))


def test_each_organization_has_its_own_numbers(org, admin_user, outsider):
    from orgs.services import organization_create

    other = organization_create(slug="other", name="Other", creator=outsider)
    team_create(org=other, name="x", actor=outsider)
    numbered(org), numbered(other)
    assert list(OrgEvent.objects.filter(org=other).order_by("seq").values_list("seq", flat=True)) == [1, 2]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_late_commit_cannot_be_skipped_by_a_cursor(org, admin_user):
    """Transaction A writes its event first (the lower id) but commits after B. A cursor on
    ids would read B's event and pass A's for ever; numbered after commit, A's event comes
    after B's and the cursor finds it."""
    numbered(org)
    cursor = events.last_seq(org.pk)
    written, release = threading.Event(), threading.Event()

    def slow_transaction():
        try:
            with transaction.atomic():
                team_create(org=org, name="late", actor=admin_user)
                written.set()
                release.wait(10)
        finally:
            connections.close_all()

    slow = threading.Thread(target=slow_transaction)
    slow.start()
    assert written.wait(10)
    team_create(org=org, name="early", actor=admin_user)  # commits at once
    numbered(org)
    seen = list(events.events_after(org=org, after=cursor, limit=100))
    assert [e.audit.target_label for e in seen] == ["early"]
    cursor = seen[-1].seq
    release.set()
    slow.join(10)
    numbered(org)
    late = list(events.events_after(org=org, after=cursor, limit=100))
    assert [e.audit.target_label for e in late] == ["late"]
    assert late[0].pk < seen[0].pk  # the id order would have skipped it


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_sequencers_give_each_event_one_number(org, admin_user):
    for i in range(40):
        team_create(org=org, name=f"t{i}", actor=admin_user)
    # As if every on-commit sequencing had been lost: all 41 events wait for a number.
    OrgEvent.objects.filter(org=org).update(seq=None)
    OrgEventSequence.objects.filter(org=org).update(last_seq=0)
    barrier = threading.Barrier(4)
    results = []

    def run():
        try:
            barrier.wait()
            results.append(events.sequence(org.pk, batch=7))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    seqs = list(OrgEvent.objects.filter(org=org).order_by("pk").values_list("seq", flat=True))
    assert sum(results) == len(seqs) and seqs == list(range(1, len(seqs) + 1))


def test_deleting_an_organization_takes_its_events_without_reading_them(org, admin_user):
    """One DELETE per table: no query fetches the audit or event ids (which past 65,535
    rows would not even fit in one query's parameters)."""
    from orgs.models import Organization

    for name in "abc":
        team_create(org=org, name=name, actor=admin_user)
    numbered(org)
    with CaptureQueriesContext(connection) as captured:
        Organization.objects.filter(pk=org.pk).delete()
    reads = [q["sql"] for q in captured.captured_queries if q["sql"].lstrip().upper().startswith("SELECT")
             and (AuditEvent._meta.db_table in q["sql"] or OrgEvent._meta.db_table in q["sql"])]
    assert reads == []
    assert not OrgEvent.objects.exists() and not AuditEvent.objects.filter(org_id=org.pk).exists()
