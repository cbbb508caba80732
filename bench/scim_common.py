"""Shared setup for the SCIM benchmarks (bench/scim_*.py).

Runs in process through django.test.Client against DATABASE_URL (default: a
throwaway SQLite file). For production-like figures use PostgreSQL, e.g.

    createdb -h 127.0.0.1 -U postgres gh_scim_bench
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/gh_scim_bench .venv/bin/python bench/scim_provision.py

Each run migrates, then works in organizations whose slugs are unique to the run.
"""
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
_tmp = tempfile.mkdtemp(prefix="gh-bench-scim-")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DATABASE_URL", f"sqlite:///{_tmp}/bench.sqlite3")
os.environ.setdefault("STATICFILES_STORAGE", "django.contrib.staticfiles.storage.StaticFilesStorage")
os.environ.setdefault("SCIM_RATE_LIMIT", "0")  # no rate limit while measuring

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext, setup_test_environment  # noqa: E402
from django.utils import timezone  # noqa: E402

TRANSACTION_CONTROL = ("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT", "BEGIN", "COMMIT")


def setup():
    setup_test_environment()
    # Django empties the query log when each request starts; keep it so queries can be counted per request.
    from django.core.signals import request_started
    from django.db import reset_queries

    request_started.disconnect(reset_queries)
    settings.ALLOWED_HOSTS = ["*"]
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.DEBUG = False
    call_command("migrate", verbosity=0, interactive=False)
    print(f"database: {connection.vendor} ({settings.DATABASES['default']['NAME']})")


def make_directory(prefix="bench"):
    """A fresh organization with SSO enabled and Directory Sync on; returns (org, token)."""
    from accounts.models import User
    from orgs.models import Plan
    from orgs.services import organization_create
    from scim.services import directory_enable
    from sso.models import SSOConnection

    run = uuid.uuid4().hex[:8]
    admin = User.objects.create_user(f"admin-{run}@bench.test", None, email_verified_at=timezone.now())
    org = organization_create(slug=f"{prefix}-{run}", name=f"{prefix} {run}", creator=admin, plan=Plan.ENTERPRISE)
    # Benchmark setup: SSO's end state, without its IdP round trip.
    SSOConnection.objects.create(org=org, idp_entity_id="https://idp.bench", idp_sso_url="https://idp.bench/sso",
                                 state=SSOConnection.State.ENABLED)
    _, token = directory_enable(org=org, actor=admin)
    return org, token


class Timed:
    """Latencies (ms) and query counts of requests made through `call`."""

    def __init__(self, label):
        self.label = label
        self.ms = []
        self.queries = []
        self.statements = []

    def call(self, fn, *args, **kwargs):
        connection.queries_log.clear()
        with CaptureQueriesContext(connection) as captured:
            start = time.perf_counter()
            response = fn(*args, **kwargs)
            self.ms.append((time.perf_counter() - start) * 1000)
        sql = [q["sql"] for q in captured.captured_queries]
        self.statements.append(sql)
        self.queries.append(sum(1 for s in sql if not s.upper().startswith(TRANSACTION_CONTROL)))
        return response

    def report(self, target_p99=None, max_queries=None):
        ms = sorted(self.ms)
        n = len(ms)
        p = lambda q: ms[min(n - 1, int(q * n))]  # noqa: E731
        total_s = sum(ms) / 1000
        line = (f"{self.label}: n={n} rate={n / total_s:.0f}/s p50={p(0.50):.2f}ms p95={p(0.95):.2f}ms "
                f"p99={p(0.99):.2f}ms max={ms[-1]:.2f}ms queries/request={statistics.mean(self.queries):.1f} "
                f"(max {max(self.queries)}, transaction control excluded)")
        verdicts = []
        if target_p99 is not None:
            verdicts.append(f"p99 {'OK' if p(0.99) < target_p99 else 'MISSED'} (< {target_p99} ms)")
        if max_queries is not None:
            verdicts.append(f"queries {'OK' if max(self.queries) <= max_queries else 'MISSED'} (≤ {max_queries})")
        print(line + ("  " + "; ".join(verdicts) if verdicts else ""))
        return line


def scim_client(token):
    return Client(HTTP_AUTHORIZATION=f"Bearer {token}")


def show_statements(timed: Timed, index=-1):
    for sql in timed.statements[index]:
        print("    ", sql[:160])
