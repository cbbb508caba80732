"""A large audit log written in one statement, for bench/audit_export.py and the export's
constant-memory test (tests/orgs/test_audit_export.py). No side effects on import."""
from datetime import datetime, timezone

from django.db import connection

from config import sql
from orgs.models import AuditEvent

EVENTS = ("member.added", "member.role_changed", "team.member_added")


def insert_audit_events(org, count: int, *, start: datetime) -> None:
    """`count` events in `org`, newest at `start` (whole seconds), three to a second going
    back, so neighbours share a time and only the id orders them; each with a target, an
    old → new change and a client address, and every 50th target's label a formula."""
    names = ["org", "actor_label", "event", "target_type", "target_id", "target_label", "old", "new", "ip_address",
             "created_at"]
    columns = ", ".join(sql.column(AuditEvent, name) for name in names)
    start = start.astimezone(timezone.utc).replace(microsecond=0)
    if connection.vendor == "postgresql":
        numbers = "generate_series(1, %s) AS n(i)"
        created_at = "CAST(%s AS timestamptz) - (i / 3) * INTERVAL '1 second'"
        when = start
    else:  # SQLite keeps datetimes as UTC text, "YYYY-MM-DD HH:MM:SS" when there are no microseconds
        numbers = "n"
        created_at = "datetime(%s, '-' || (i / 3) || ' seconds')"
        when = start.strftime("%Y-%m-%d %H:%M:%S")
    cte = "" if connection.vendor == "postgresql" else (
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < %s) ")
    statement = (
        f"{cte}INSERT INTO {sql.table(AuditEvent)} ({columns}) "
        f"SELECT %s, %s, CASE i % 3 WHEN 0 THEN '{EVENTS[0]}' WHEN 1 THEN '{EVENTS[1]}' ELSE '{EVENTS[2]}' END, "
        f"'membership', CAST(i AS TEXT), CASE WHEN i % 50 = 0 THEN '=HYPERLINK(\"x\")' ELSE "
        f"'user' || CAST(i AS TEXT) || '@example.test' END, %s, %s, %s, {created_at} FROM {numbers}"
    ).replace("%", "%%").replace("%%s", "%s")
    values = [sql.param(AuditEvent, "org", org.pk), "bench@example.test",
              sql.param(AuditEvent, "old", {"role": "member"}), sql.param(AuditEvent, "new", {"role": "admin"}),
              sql.param(AuditEvent, "ip_address", "203.0.113.7"), when]
    params = [count, *values] if cte else [*values, count]
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
