"""Benchmark: the API's fixed cost, in process, as CPU per request (issue 13 item 3).

    .venv/bin/python bench/api_profile.py [--requests 2000] [--profile]

Calls Django's WSGI handler directly (no HTTP, no client library: what remains is
Gatehouse's own cost) for
  * `GET /api/v1/user` with a session cookie (the caller in 3 organizations), and
  * `GET /api/v1/organizations/<org>/members` with a service token (a page of 50),
and prints the process CPU time per request and the SQL statements each runs. With
`--profile`, cProfile's view of each, summed by where the time is spent:
the middleware stack, DRF's dispatch and authentication, the session and account
reads, the serializers, the database driver. CPU per request is the figure to compare
across changes on a shared machine; wall time there is mostly waiting for a core.
Runs against DATABASE_URL (PostgreSQL for meaningful figures); creates its world once.
"""
import argparse
import cProfile
import io
import os
import pstats
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.core.handlers.wsgi import WSGIHandler  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.utils import timezone  # noqa: E402

from accounts.models import User  # noqa: E402
from orgs.models import Membership, Organization, Plan  # noqa: E402
from orgs.services import membership_add, organization_create, service_token_create  # noqa: E402

EMAIL = "caller@bench-api.test"
# Where a profiled call's time goes: the first matching part of a function's file wins.
PARTS = [
    ("session and account reads", ("accounts/fastpath.py", "sessions/backends", "auth/__init__.py")),
    ("serializers", ("rest_framework/serializers.py", "rest_framework/fields.py", "api/serializers.py")),
    ("database driver", ("psycopg/", "django/db/backends/")),
    ("ORM", ("django/db/models/",)),
    ("DRF dispatch, authentication, rendering", ("rest_framework/",)),
    ("middleware", ("middleware", "config/faults.py", "whitenoise/", "axes/")),
]


def world():
    call_command("migrate", verbosity=0)
    user = User.objects.filter(email=EMAIL).first() or User.objects.create_user(
        EMAIL, None, email_verified_at=timezone.now())
    for i in range(3):
        if not Organization.objects.filter(slug=f"bench-api-{i}").exists():
            org = organization_create(slug=f"bench-api-{i}", name=f"Bench API {i}", creator=user, plan=Plan.ENTERPRISE)
            if i == 0:
                for n in range(60):
                    member = User.objects.create_user(f"m{n}@bench-api.test", None, email_verified_at=timezone.now())
                    membership_add(org=org, user=member, role=Membership.Role.MEMBER, actor=None)
    org = Organization.objects.get(slug="bench-api-0")
    _, token = service_token_create(org=org, name=f"bench-{time.time_ns()}", actor=user)
    client = Client()
    client.force_login(user, backend="accounts.backends.EmailBackend")
    return client.cookies["sessionid"].value, token


def caller(handler, path: str, headers: dict):
    def call():
        started = []
        environ = {"REQUEST_METHOD": "GET", "PATH_INFO": path, "SERVER_NAME": "localhost", "SERVER_PORT": "8000",
                   "HTTP_HOST": "localhost", "REMOTE_ADDR": "127.0.0.1", "wsgi.url_scheme": "http",
                   "wsgi.input": io.BytesIO(b""), "wsgi.errors": sys.stderr, **headers}
        body = handler(environ, lambda status, response_headers: started.append(status))
        b"".join(body)
        body.close()
        return started[0]
    return call


def part_of(filename: str) -> str:
    for name, markers in PARTS:
        if any(marker in filename for marker in markers):
            return name
    return "the rest (views, URL resolution, Python)"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    session_key, token = world()
    handler = WSGIHandler()
    workloads = {
        "GET /api/v1/user (session)": caller(handler, "/api/v1/user", {"HTTP_COOKIE": f"sessionid={session_key}"}),
        "GET …/members (token, page of 50)": caller(handler, "/api/v1/organizations/bench-api-0/members",
                                                      {"HTTP_AUTHORIZATION": f"Bearer {token}"}),
    }
    print(f"{connection.vendor}, {args.requests} requests each, {os.cpu_count()} cores")
    for label, call in workloads.items():
        assert call().startswith("200"), label
        statements = []
        with connection.execute_wrapper(lambda execute, sql, *rest: statements.append(sql) or execute(sql, *rest)):
            call()
        started = time.process_time()
        for _ in range(args.requests):
            call()
        cpu = (time.process_time() - started) / args.requests * 1000
        print(f"  {label:38s} CPU {cpu:5.2f} ms/request, {len(statements)} statements")
    for label, call in workloads.items() if args.profile else ():
        profile = cProfile.Profile()
        profile.enable()
        for _ in range(args.requests):
            call()
        profile.disable()
        totals: dict[str, float] = {}
        for (filename, _, _), (_, _, own, _, _) in pstats.Stats(profile).stats.items():
            totals[part_of(filename)] = totals.get(part_of(filename), 0) + own
        whole = sum(totals.values())
        print(f"  where {label}'s time goes (cProfile, own time by module):")
        for name, seconds in sorted(totals.items(), key=lambda item: -item[1]):
            print(f"    {name:45s} {seconds / whole * 100:5.1f} %")
    return 0


if __name__ == "__main__":
    sys.exit(main())
