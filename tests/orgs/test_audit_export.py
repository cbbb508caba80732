"""The audit log export itself (orgs/audit_export.py): what a row becomes in CSV and
NDJSON, cells a spreadsheet would evaluate, the keyset batches (no row skipped or
repeated, ties on the time broken by id, one query a batch), and constant memory
over a large log, through HTTP."""
import csv
import io
import json
import tracemalloc
from datetime import datetime, timedelta, timezone

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from bench.audit_common import insert_audit_events
from orgs.audit import audit_record
from orgs.audit_export import COLUMNS, export_rows, spreadsheet_safe
from orgs.models import AuditEvent
from tests.conftest import client_for

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 12, 7, 12, 0, 0, tzinfo=timezone.utc)


def _csv(org, **filters) -> list[dict]:
    text = b"".join(export_rows(org=org, filters=filters, fmt="csv")).decode()
    return list(csv.DictReader(io.StringIO(text, newline="")))


def _ndjson(org, **filters) -> list[dict]:
    return [json.loads(line) for line in b"".join(export_rows(org=org, filters=filters, fmt="ndjson")).splitlines()]


@pytest.mark.parametrize("text,safe", [
    ("=1+2", "'=1+2"), ("+cmd", "'+cmd"), ("-2+3", "'-2+3"), ("@SUM(A1)", "'@SUM(A1)"), ("\tx", "'\tx"),
    ("\rx", "'\rx"), ("ada@acme.test", "ada@acme.test"), ("a=b", "a=b"), ("", ""), ("'quoted", "'quoted"),
])
def test_a_cell_a_spreadsheet_would_evaluate_starts_with_an_apostrophe(text, safe):
    assert spreadsheet_safe(text) == safe


def test_a_row_in_both_formats(org, admin_user):
    event = audit_record(org=org, actor=admin_user, event="member.role_changed", target=org,
                         target_label="=HYPERLINK(\"http://evil.test\")", old={"role": "member"},
                         new={"role": "admin", "note": "Zoë, \"quoted\"\nnext line"})
    AuditEvent.objects.filter(pk=event.pk).update(ip_address="2001:db8::1", created_at=NOW)
    (row,) = [r for r in _csv(org) if r["id"] == str(event.pk)]
    assert list(row) == list(COLUMNS)
    # The JSON columns as the database writes them out, one JSON value in one cell.
    assert json.loads(row.pop("old")) == {"role": "member"}
    assert json.loads(row.pop("new")) == {"role": "admin", "note": "Zoë, \"quoted\"\nnext line"}
    assert row == {
        "id": str(event.pk), "created_at": "2026-12-07T12:00:00Z", "actor_id": str(admin_user.pk),
        "actor": "ada@acme.test", "event": "member.role_changed", "target_type": "organization",
        "target_id": str(org.pk), "target_label": "'=HYPERLINK(\"http://evil.test\")", "ip_address": "2001:db8::1",
    }
    (line,) = [r for r in _ndjson(org) if r["id"] == event.pk]
    assert line == {
        "id": event.pk, "created_at": "2026-12-07T12:00:00Z", "actor_id": admin_user.pk, "actor": "ada@acme.test",
        "event": "member.role_changed", "target_type": "organization", "target_id": str(org.pk),
        "target_label": "=HYPERLINK(\"http://evil.test\")",  # NDJSON keeps the value as recorded
        "old": {"role": "member"}, "new": {"role": "admin", "note": "Zoë, \"quoted\"\nnext line"},
        "ip_address": "2001:db8::1",
    }


def test_the_system_as_actor_and_empty_values(org):
    event = audit_record(org=org, actor=None, event="org.plan_changed")
    (row,) = [r for r in _csv(org) if r["id"] == str(event.pk)]
    assert (row["actor_id"], row["actor"], row["old"], row["new"], row["ip_address"]) == ("", "system", "", "", "")
    (line,) = [r for r in _ndjson(org) if r["id"] == event.pk]
    assert (line["actor_id"], line["old"], line["new"], line["ip_address"]) == (None, None, None, None)


def test_nothing_matches_the_csv_is_its_header_and_ndjson_is_empty(org):
    filters = {"event": "no.such_event"}
    assert b"".join(export_rows(org=org, filters=filters, fmt="csv")) == (",".join(COLUMNS) + "\r\n").encode()
    assert b"".join(export_rows(org=org, filters=filters, fmt="ndjson")) == b""


@pytest.mark.parametrize("size", [1, 2, 3, 7, 1000])
def test_batches_send_every_row_once_newest_first_ties_broken_by_id(org, other_org, settings, size):
    insert_audit_events(org, 40, start=NOW)  # three rows to a second: ties at every step
    insert_audit_events(other_org, 5, start=NOW)
    settings.AUDIT_EXPORT_BATCH_SIZE = size
    expected = list(AuditEvent.objects.filter(org=org).order_by("-created_at", "-pk").values_list("pk", flat=True))
    with CaptureQueriesContext(connection) as queries:
        got = [line["id"] for line in _ndjson(org)]
    assert got == expected and len(set(got)) == len(got)
    # One query a batch, plus the one that finds the last batch short (or empty).
    assert len(queries) == len(expected) // size + 1


def test_filters_are_the_lists(org, admin_user):
    insert_audit_events(org, 30, start=NOW)
    since, until = NOW - timedelta(seconds=6), NOW - timedelta(seconds=2)
    rows = _ndjson(org, event="member.added", since=since, until=until)
    expected = AuditEvent.objects.filter(org=org, event="member.added", created_at__gte=since,
                                         created_at__lt=until).order_by("-created_at", "-pk")
    assert [r["id"] for r in rows] == list(expected.values_list("pk", flat=True)) and rows
    assert {r["event"] for r in _ndjson(org, event="member.")} == {"member.added", "member.role_changed"}
    assert _ndjson(org, actor="nobody@acme.test") == []


# Constant memory and bounded queries at scale ------------------------------------------


def _consume(client, url) -> tuple[int, int, int]:
    """Lines, peak traced bytes and queries while the response is read to its end."""
    tracemalloc.start()
    try:
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
            assert response.status_code == 200 and response.streaming
            lines = sum(chunk.count(b"\n") for chunk in response.streaming_content)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return lines, peak, len(queries)


@pytest.mark.parametrize("fmt,sizes", [("ndjson", (20_000, 200_000)), ("csv", (20_000, 100_000))])
def test_a_large_export_streams_in_constant_memory_and_queries_per_batch(org, admin_user, settings, fmt, sizes):
    """A log of 20,000 events and then one ten (CSV: five) times larger: the peak of
    Python's allocations while the whole response is read stays a batch's worth, and each
    batch is one query. (CSV at 100,000 keeps the suite's time down on 2 shared cores.)"""
    settings.AUDIT_EXPORT_BATCH_SIZE = 2000
    client = client_for(admin_user)
    url = f"/orgs/{org.slug}/settings/audit-log/export/?format={fmt}&event=member."
    results, written = {}, 0
    for total in sizes:
        insert_audit_events(org, total - written, start=NOW)
        written = total
        matching = AuditEvent.objects.filter(org=org, event__startswith="member.").count()
        lines, peak, queries = _consume(client, url)
        assert lines == matching + (fmt == "csv")
        batches = matching // settings.AUDIT_EXPORT_BATCH_SIZE + 1
        # The page's own reads (session, membership, the export's audit row) and one query a batch.
        assert batches <= queries <= batches + 12, queries
        results[total] = peak
    small, large = (results[total] for total in sizes)
    assert large < small * 1.5 + 256 * 1024, (small, large)
    assert large < 16 * 1024 * 1024, large
