"""Benchmark: one page of the members list on an organization with 50,000 members.

    .venv/bin/python bench/members_list.py [--requests 300] [--members 50000]

Runs against the configured DATABASE_URL (PostgreSQL for meaningful figures:
`DATABASE_URL=postgres://postgres@127.0.0.1:5432/gatehouse_bench`). On first
run it migrates that database and creates the organization `bench-50k` with
its members (bulk inserts, about a minute); later runs reuse it. Then it times
N requests, in process through django.test.Client, of
  * the API page  GET /api/v1/organizations/bench-50k/members?offset=…  (session and bearer token)
  * the dashboard GET /orgs/bench-50k/settings/members/?page=…          (when that page exists)
with offsets spread evenly over the whole list, and prints p50/p95/p99 and the
SQL queries per request (which must not depend on the number of members).
"""
import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
# The dashboard renders {% static %}; without `collectstatic` there is no manifest, so use
# plain static URLs (the page's cost is the same).
os.environ.setdefault("STATICFILES_STORAGE", "django.contrib.staticfiles.storage.StaticFilesStorage")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.urls import Resolver404, resolve  # noqa: E402
from django.utils import timezone  # noqa: E402

from accounts.models import User  # noqa: E402
from orgs.models import Membership, Organization, Plan, ServiceToken  # noqa: E402
from orgs.services import organization_create, service_token_create  # noqa: E402
from teams.models import Team, TeamMember  # noqa: E402

SLUG = "bench-50k"
ADMIN_EMAIL = "admin@bench-50k.test"
BATCH = 5000
TEAMS = 20
PAGE = 50


def ensure_org(members: int) -> Organization:
    admin = User.objects.filter(email=ADMIN_EMAIL).first() or User.objects.create_user(ADMIN_EMAIL, None,
                                                                                       email_verified_at=timezone.now())
    org = Organization.objects.filter(slug=SLUG).first()
    if org is None:
        org = organization_create(slug=SLUG, name="Bench 50k", creator=admin, plan=Plan.ENTERPRISE)
    have = Membership.objects.filter(org=org).count() - 1
    if have >= members:
        return org
    print(f"creating {members - have} members in {SLUG} …", flush=True)
    started = time.perf_counter()
    teams = [Team.objects.get_or_create(org=org, name=f"Team {i:02}")[0] for i in range(TEAMS)]
    for start in range(have, members, BATCH):
        stop = min(start + BATCH, members)
        with transaction.atomic():
            emails = [f"member{i:06}@bench-50k.test" for i in range(start, stop)]
            User.objects.bulk_create([User(email=e, password="!", first_name="Bench", last_name=f"{i}")
                                      for i, e in zip(range(start, stop), emails)], ignore_conflicts=True)
            users = User.objects.filter(email__in=emails)
            created = Membership.objects.bulk_create(
                [Membership(org=org, user=u, is_database_admin=(u.pk % 97 == 0)) for u in users],
                ignore_conflicts=True)
            memberships = Membership.objects.filter(org=org, user__email__in=emails).only("pk")
            # Every member in one team, a few in two: the page shows team names.
            TeamMember.objects.bulk_create(
                [TeamMember(org=org, team=teams[m.pk % TEAMS], membership=m) for m in memberships]
                + [TeamMember(org=org, team=teams[(m.pk + 1) % TEAMS], membership=m) for m in memberships
                   if m.pk % 10 == 0],
                ignore_conflicts=True)
        print(f"  {stop}/{members} ({len(created)} new)", flush=True)
    if connection.vendor == "postgresql":
        # What autovacuum does soon after a bulk load: statistics and the visibility map
        # (index-only scans need it).
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
    print(f"done in {time.perf_counter() - started:.1f} s", flush=True)
    return org


def percentile(values, p):
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]


def measure(label, client, urls):
    client.get(urls[0])  # warm-up: connection, session, caches
    timings, queries = [], set()
    for url in urls:
        with CaptureQueriesContext(connection) as ctx:
            started = time.perf_counter()
            response = client.get(url)
            elapsed = time.perf_counter() - started
        if response.status_code != 200:
            raise SystemExit(f"{label}: {url} answered {response.status_code}: {response.content[:300]!r}")
        timings.append(elapsed * 1000)
        queries.add(len(ctx.captured_queries))
    print(f"{label:<34} n={len(urls):<4} p50={percentile(timings, 50):6.1f} ms  "
          f"p95={percentile(timings, 95):6.1f} ms  p99={percentile(timings, 99):6.1f} ms  "
          f"mean={statistics.mean(timings):6.1f} ms  queries/request={sorted(queries)}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--members", type=int, default=50_000)
    args = parser.parse_args()

    call_command("migrate", verbosity=0)
    org = ensure_org(args.members)
    total = Membership.objects.filter(org=org).count()
    print(f"database: {connection.vendor} {connection.settings_dict['NAME']}; {SLUG}: {total} members")

    admin = User.objects.get(email=ADMIN_EMAIL)
    session = Client()
    session.force_login(admin, backend="accounts.backends.EmailBackend")
    ServiceToken.objects.filter(org=org, name="bench").delete()
    _, secret = service_token_create(org=org, name="bench", actor=admin)
    bearer = Client(headers={"Authorization": f"Bearer {secret}"})

    n = args.requests
    offsets = [(i * (total - PAGE)) // max(1, n - 1) for i in range(n)]
    api = [f"/api/v1/organizations/{SLUG}/members?limit={PAGE}&offset={o}" for o in offsets]
    measure("API members page (session)", session, api)
    measure("API members page (bearer token)", bearer, api)

    dashboard = f"/orgs/{SLUG}/settings/members/"
    try:
        resolve(dashboard)
    except Resolver404:
        print(f"dashboard page {dashboard} does not exist; skipped")
        return
    pages = [f"{dashboard}?page={o // PAGE + 1}" for o in offsets]
    measure("dashboard members page (session)", session, pages)


if __name__ == "__main__":
    main()
