"""Benchmark: validated SAML logins per second over HTTP, gunicorn with 2 workers.

    DATABASE_URL=postgres://… .venv/bin/python bench/acs_http.py [--logins 2000] [--concurrency 2]

bench/acs.py measures one process in-process; this measures the deployment shape on
this machine's 2 cores: `gunicorn config.wsgi` with 2 sync workers (as config/wsgi.py
sets them up), PostgreSQL, Redis when REDIS_URL is set, and real HTTP POSTs to
/sso/<org>/acs/, form-encoded, without cookies, each with its own signed assertion.
The load generator (Python threads, --concurrency requests in flight: by default one
per worker, so latency is the service's, not a queue's) runs on the same 2 cores as
the workers, PostgreSQL and Redis, so the figure understates what the web tier does
on 2 cores of its own. It also prints the CPU time one login costs the web worker
and PostgreSQL. Needs DATABASE_URL (gunicorn's processes cannot share an in-memory
database).
"""
import argparse
import os
import statistics
import sys
import tempfile
import time
from http.client import HTTPConnection
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from http_common import children, cpu_seconds, free_port, gunicorn, in_parallel, pids  # noqa: E402

PORT = free_port()
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ["BASE_URL"] = f"http://127.0.0.1:{PORT}"
os.environ["ALLOWED_HOSTS"] = "127.0.0.1"
os.environ["SAML_TEST_IDP"] = "true"

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402

settings.SAML_TEST_IDP_DIR = Path(tempfile.mkdtemp(prefix="gh-bench-acs-http-")) / "idp"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--logins", type=int, default=2000)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://")):
        raise SystemExit("bench/acs_http.py needs DATABASE_URL=postgres://…")

    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
    from acs_common import SLUG, prepare

    sign = prepare(args.users)
    print(f"signing {args.users + args.logins} responses with signxml…", flush=True)
    warmup = [urlencode({"SAMLResponse": body, "RelayState": ""}).encode() for body in sign(args.users)]
    forms = [urlencode({"SAMLResponse": body, "RelayState": ""}).encode() for body in sign(args.logins)]

    with gunicorn("config.wsgi:application", port=PORT, env=os.environ.copy(), cwd=ROOT,
                  workers=args.workers) as server:
        def post(form: bytes) -> float:
            started = time.perf_counter()
            connection = HTTPConnection("127.0.0.1", PORT, timeout=30)
            connection.request("POST", f"/sso/{SLUG}/acs/", body=form,
                               headers={"Content-Type": "application/x-www-form-urlencoded"})
            response = connection.getresponse()
            response.read()
            connection.close()
            if response.status != 302:
                raise SystemExit(f"login failed: {response.status}")
            return (time.perf_counter() - started) * 1000

        # Warm-up: the first logins create the accounts (JIT) and load each worker's code.
        for form in warmup:
            post(form)
        workers = children(server.pid)
        database = pids(lambda pid, stat: "(postgres)" in stat or "(postmaster)" in stat)
        workers_before, database_before = cpu_seconds(workers), cpu_seconds(database)
        cpu_before = os.times()
        # A new connection per POST (post's own), --concurrency of them in flight.
        times, total = in_parallel(PORT, forms, args.concurrency, lambda _, form: post(form))
        cpu = os.times()
        generator_cpu = (cpu.user + cpu.system - cpu_before.user - cpu_before.system) / total
        worker_ms = (cpu_seconds(workers) - workers_before) * 1000 / len(times)
        database_ms = (cpu_seconds(database) - database_before) * 1000 / len(times)
    q = statistics.quantiles(times, n=100)
    cache = "Redis" if os.environ.get("REDIS_URL") else "local memory (per worker)"
    print(f"ACS over HTTP, gunicorn {args.workers} sync workers, {args.concurrency} requests in flight, "
          f"{len(times)} logins, PostgreSQL, replay cache: {cache}:")
    print(f"{len(times) / total:7.1f} logins/s   p50 {q[49]:5.2f} ms   p95 {q[94]:5.2f} ms   p99 {q[98]:5.2f} ms   "
          f"(load generator used {generator_cpu:.2f} of the 2 cores)")
    print(f"CPU per login: web worker {worker_ms:.2f} ms, PostgreSQL {database_ms:.2f} ms "
          f"→ the web tier alone would serve {2000 / worker_ms:.0f} logins/s on 2 cores of its own")


if __name__ == "__main__":
    main()
