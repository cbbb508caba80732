"""Benchmark: service-token authentication with 50,000 tokens in the database.

    .venv/bin/python bench/token_auth.py [--lookups 2000] [--tokens 50000]

Runs against the configured DATABASE_URL (PostgreSQL for meaningful figures).
On first run it migrates and creates the organization `bench-tokens` with
50,000 service tokens (bulk insert; their secrets are derived from their
number, so the benchmark can present real ones). Then it times
`orgs.services.service_token_authenticate`:
  * cold  — a token's first use in a minute (the lookup plus the last_used_at update),
  * warm  — the same tokens again (the lookup only),
  * miss  — unknown secrets (the lookup finds nothing),
and the SHA-256 alone, and prints p50/p99 and the SQL queries per call.
"""
import argparse
import hashlib
import os
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from accounts.models import User  # noqa: E402
from orgs.models import Organization, Plan, ServiceToken, hash_secret  # noqa: E402
from orgs.services import organization_create, service_token_authenticate  # noqa: E402

SLUG = "bench-tokens"
ADMIN_EMAIL = "admin@bench-tokens.test"
BATCH = 5000


def secret_for(i: int) -> str:
    # Same shape and length as a real token (ghst_ + 43 characters).
    return "ghst_" + hashlib.sha256(f"bench-token-{i}".encode()).hexdigest()[:43]


def ensure_tokens(count: int) -> Organization:
    admin = User.objects.filter(email=ADMIN_EMAIL).first() or User.objects.create_user(ADMIN_EMAIL, None,
                                                                                       email_verified_at=timezone.now())
    org = Organization.objects.filter(slug=SLUG).first() or organization_create(
        slug=SLUG, name="Bench tokens", creator=admin, plan=Plan.ENTERPRISE)
    have = ServiceToken.objects.filter(org=org, name__startswith="bench-").count()
    if have >= count:
        return org
    print(f"creating {count - have} service tokens in {SLUG} …", flush=True)
    for start in range(have, count, BATCH):
        with transaction.atomic():
            ServiceToken.objects.bulk_create([
                ServiceToken(org=org, name=f"bench-{i:06}", role="member", token_hash=hash_secret(secret_for(i)),
                             prefix=secret_for(i)[:10], created_by=admin)
                for i in range(start, min(start + BATCH, count))
            ], ignore_conflicts=True)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE orgs_servicetoken")
    return org


def percentile(values, p):
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1))))]


def timed(label, secrets, expect_found=True):
    timings, queries = [], set()
    for secret in secrets:
        with CaptureQueriesContext(connection) as ctx:
            started = time.perf_counter()
            token = service_token_authenticate(secret)
            timings.append((time.perf_counter() - started) * 1000)
        queries.add(len(ctx.captured_queries))
        if (token is not None) != expect_found:
            raise SystemExit(f"{label}: unexpected result for {secret[:12]}…")
    print(f"{label:<40} n={len(secrets):<5} p50={percentile(timings, 50):6.3f} ms  "
          f"p99={percentile(timings, 99):6.3f} ms  queries/call={sorted(queries)}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lookups", type=int, default=2000)
    parser.add_argument("--tokens", type=int, default=50_000)
    args = parser.parse_args()

    call_command("migrate", verbosity=0)
    org = ensure_tokens(args.tokens)
    total = ServiceToken.objects.count()
    print(f"database: {connection.vendor} {connection.settings_dict['NAME']}; {total} service tokens in all")

    rng = random.Random(7)
    sample = [secret_for(rng.randrange(args.tokens)) for _ in range(args.lookups)]
    # Forget recent use, so the first pass shows the cost of a token's first call in a minute.
    ServiceToken.objects.filter(org=org, name__startswith="bench-").update(last_used_at=None)
    service_token_authenticate(sample[0])  # warm-up: connection
    timed("cold (lookup + last_used_at update)", sample[1:])
    timed("warm (lookup only)", sample)
    timed("miss (unknown token)", [f"ghst_{rng.getrandbits(200):x}"[:48] for _ in range(args.lookups)],
          expect_found=False)

    timings = []
    for secret in sample:
        started = time.perf_counter()
        hash_secret(secret)
        timings.append((time.perf_counter() - started) * 1000)
    print(f"{'SHA-256 of the secret alone':<40} n={len(sample):<5} p50={percentile(timings, 50):6.3f} ms  "
          f"p99={percentile(timings, 99):6.3f} ms")


if __name__ == "__main__":
    main()
