"""Benchmark: exporting an audit log of 1,000,000 events (PostgreSQL for meaningful figures).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/gh_bench python3 dev.py bench audit_export
    … .venv/bin/python bench/audit_export.py [--events 1000000] [--batch 2000] [--formats csv ndjson] [--iterator]

(run alone it needs what dev.py's `bench` supplies: SECRET_KEY and EMAIL_BACKEND.)

On first run it creates the organization `bench-audit` with N events in one INSERT …
SELECT (bench/audit_common.py; later runs reuse them), then downloads the whole log
through the dashboard's export URL in process (django.test.Client, reading the
streamed response to its end, as a browser or curl would), once per format, and
prints rows/s, MB/s, the process's CPU seconds (steadier than wall time on a shared
machine; PostgreSQL's own time is not in them), the SQL statements and the peak RSS
of the process, which must not grow with N. With --iterator the keyset batches are compared with a plain
`.iterator(chunk_size=…)` over the same queryset (a server-side cursor on PostgreSQL).
"""
import argparse
import os
import resource
import sys
import time
import warnings
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("STATICFILES_STORAGE", "django.contrib.staticfiles.storage.StaticFilesStorage")
warnings.filterwarnings("ignore", "No directory at")  # whitenoise: no collectstatic for a benchmark

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone as django_timezone  # noqa: E402

from accounts.models import User  # noqa: E402
from bench.audit_common import insert_audit_events  # noqa: E402
from orgs import audit_export  # noqa: E402
from orgs.models import AuditEvent, Organization, Plan  # noqa: E402
from orgs.selectors import audit_event_list  # noqa: E402
from orgs.services import organization_create  # noqa: E402

SLUG = "bench-audit"
ADMIN_EMAIL = "admin@bench-audit.test"


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: kilobytes


def ensure_org(events: int) -> tuple[Organization, User]:
    admin = User.objects.filter(email=ADMIN_EMAIL).first() or User.objects.create_user(
        ADMIN_EMAIL, None, email_verified_at=django_timezone.now())
    org = Organization.objects.filter(slug=SLUG).first() or organization_create(
        slug=SLUG, name="Bench audit", creator=admin, plan=Plan.ENTERPRISE)
    have = AuditEvent.objects.filter(org=org).count()
    if have < events:
        print(f"writing {events - have} audit events …", flush=True)
        started = time.perf_counter()
        insert_audit_events(org, events - have, start=datetime(2026, 12, 1, tzinfo=timezone.utc))
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:  # what autovacuum would do soon after a bulk load
                cursor.execute(f"VACUUM ANALYZE {AuditEvent._meta.db_table}")
        print(f"  done in {time.perf_counter() - started:.1f} s", flush=True)
    return org, admin


def download(client, url) -> tuple[int, int, float, float, int]:
    """Lines, bytes, wall and CPU seconds of this process, and statements, for reading `url` to its end."""
    with CaptureQueriesContext(connection) as queries:
        started, cpu = time.perf_counter(), time.process_time()
        response = client.get(url)
        assert response.status_code == 200, response.status_code
        lines = size = 0
        for chunk in response.streaming_content:
            lines += chunk.count(b"\n")
            size += len(chunk)
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    return lines, size, elapsed, cpu, len(queries)


def iterator_export(org, fmt, chunk_size) -> tuple[int, float]:
    """The alternative: one queryset read with .iterator() (a server-side cursor on PostgreSQL)."""
    rows = audit_event_list(org=org).values_list(*audit_export._FIELDS).iterator(chunk_size=chunk_size)

    def batches():
        batch = []
        for row in rows:
            batch.append(row)
            if len(batch) == chunk_size:
                yield batch
                batch = []
        if batch:
            yield batch

    started = time.perf_counter()
    size = sum(len(chunk) for chunk in audit_export.FORMATS[fmt].encode(batches()))
    return size, time.perf_counter() - started


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=None, help="rows per query (default: the setting)")
    parser.add_argument("--formats", nargs="+", default=["csv", "ndjson"], choices=sorted(audit_export.FORMATS))
    parser.add_argument("--iterator", action="store_true", help="also time .iterator(chunk_size=batch)")
    args = parser.parse_args()

    from django.conf import settings

    if args.batch:
        settings.AUDIT_EXPORT_BATCH_SIZE = args.batch
    call_command("migrate", verbosity=0)
    org, admin = ensure_org(args.events)
    client = Client()
    client.force_login(admin, backend="accounts.backends.EmailBackend")
    total = AuditEvent.objects.filter(org=org).count()
    print(f"{connection.vendor}, {total} events in {SLUG}, batches of {settings.AUDIT_EXPORT_BATCH_SIZE}; "
          f"peak RSS before: {peak_rss_mb():.0f} MB", flush=True)
    for fmt in args.formats:
        lines, size, elapsed, cpu, queries = download(client, f"/orgs/{SLUG}/settings/audit-log/export/?format={fmt}")
        rows = lines - (fmt == "csv")
        print(f"{fmt:<7} {rows} rows  {elapsed:6.1f} s  {rows / elapsed:8.0f} rows/s  {size / elapsed / 1e6:5.1f} MB/s "
              f"({size / 1e6:.0f} MB)  CPU {cpu:.1f} s ({rows / cpu:.0f} rows/CPU-s)  {queries} statements  "
              f"peak RSS {peak_rss_mb():.0f} MB", flush=True)
        if args.iterator:
            size, elapsed = iterator_export(org, fmt, settings.AUDIT_EXPORT_BATCH_SIZE)
            print(f"{fmt:<7} .iterator(chunk_size={settings.AUDIT_EXPORT_BATCH_SIZE}): {elapsed:6.1f} s  "
                  f"{total / elapsed:8.0f} rows/s  peak RSS {peak_rss_mb():.0f} MB", flush=True)


if __name__ == "__main__":
    main()
