"""Benchmark: enabling SSO on an organization with 50,000 members (PostgreSQL).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/gh_bench_sso .venv/bin/python bench/sso_enable.py [--members 50000]

Creates (bulk) a fresh organization with N non-admin members, a few teams
memberships and DBA grants, then measures:
  * the enable request: sso_enable() as the dashboard/API calls it (its job is
    queued on commit, not run) — time and SQL queries, which must not grow with N;
  * the job: sso_removal_run() removing every non-admin in batches of 1,000 —
    total time, batches, and SQL queries per batch (bounded, independent of N).
The organization is deleted afterwards.
"""
import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
# Removal emails are their own Celery tasks (queued per batch); here they go nowhere.
os.environ.setdefault("EMAIL_BACKEND", "django.core.mail.backends.dummy.EmailBackend")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--members", type=int, default=50_000)
    args = parser.parse_args()
    call_command("migrate", verbosity=0, interactive=False)

    from accounts.models import User
    from orgs.models import Membership, Organization, Plan
    from orgs.services import organization_create
    from sso import test_idp
    from sso.models import SSOConnection
    from sso.services import sso_configure, sso_enable, sso_removal_run_batch

    slug = "bench-sso-enable"
    Organization.objects.filter(slug=slug).delete()
    User.objects.filter(email__endswith="@bench-enable.test").delete()
    admin = User.objects.create_user("admin@bench-enable.test", None, email_verified_at=timezone.now())
    org = organization_create(slug=slug, name="Bench enable", creator=admin, plan=Plan.ENTERPRISE)
    _, cert = test_idp.keypair()
    sso_configure(org=org, actor=admin, idp_entity_id="https://idp.bench.test/", idp_sso_url="https://idp.bench.test/sso",
                  certificates=[cert])
    print(f"creating {args.members} members…", flush=True)
    t0 = time.perf_counter()
    for start in range(0, args.members, 5000):
        users = User.objects.bulk_create([User(email=f"m{i}@bench-enable.test", password="!")
                                          for i in range(start, min(args.members, start + 5000))])
        Membership.objects.bulk_create([Membership(org=org, user=u, role="member", is_database_admin=(u.pk % 50 == 0))
                                        for u in users])
    print(f"  done in {time.perf_counter() - t0:.1f} s")

    import sso.tasks

    queued = []
    original_delay = sso.tasks.remove_non_admins.delay
    sso.tasks.remove_non_admins.delay = lambda org_id: queued.append(org_id)  # measure the request alone
    try:
        with CaptureQueriesContext(connection) as queries:
            t0 = time.perf_counter()
            sso_enable(org=org, actor=admin)
            enable_ms = (time.perf_counter() - t0) * 1000
    finally:
        sso.tasks.remove_non_admins.delay = original_delay
    print(f"enable request (sso_enable, job queued on commit): {enable_ms:.0f} ms, {len(queries)} SQL queries; "
          f"job queued: {bool(queued)}")

    # The removal emails are separate tasks (another worker sends them while the job
    # goes on): queued here, not run inside the job's timing; measured after it.
    email_tasks = []
    original_emails = sso.tasks.send_removal_emails.delay
    sso.tasks.send_removal_emails.delay = lambda org_id, *args: email_tasks.append(org_id)
    batches, per_batch = 0, []
    t0 = time.perf_counter()
    try:
        while True:
            with CaptureQueriesContext(connection) as queries:
                handled = sso_removal_run_batch(org=org, batch_size=settings.SSO_REMOVAL_BATCH_SIZE)
            if not handled:
                break
            batches += 1
            per_batch.append(len(queries))
    finally:
        sso.tasks.send_removal_emails.delay = original_emails
    job_s = time.perf_counter() - t0
    connection_row = SSOConnection.objects.get(org=org)
    left = Membership.objects.filter(org=org).exclude(role="admin").count()
    print(f"job: {job_s:.1f} s for {connection_row.removal_done} removals in {batches} batches of "
          f"{settings.SSO_REMOVAL_BATCH_SIZE}; SQL queries per batch: min {min(per_batch)}, max {max(per_batch)}; "
          f"non-admins left: {left}")
    from sso.services import sso_removal_notify

    t0 = time.perf_counter()
    sent = 0
    while handled := sso_removal_notify(org=org, send=lambda user: None, limit=200):
        sent += handled
    print(f"removal emails (outbox, sending stubbed): {sent} marked sent in {time.perf_counter() - t0:.1f} s; "
          f"{len(email_tasks)} email tasks queued by the job")
    Organization.objects.filter(pk=org.pk).delete()
    User.objects.filter(email__endswith="@bench-enable.test").delete()


if __name__ == "__main__":
    main()
