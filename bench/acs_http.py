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
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from http.client import HTTPConnection
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _cpu_seconds(pids) -> float:
    """User + system CPU time of these processes so far (Linux /proc)."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def _pids(match) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
                if match(int(entry.name), stat):
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


PORT = _free_port()
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

    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "config.wsgi:application", "--bind", f"127.0.0.1:{PORT}",
         "--workers", str(args.workers), "--no-control-socket", "--log-level", "warning"],
        cwd=ROOT, env=os.environ.copy(),
    )
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", PORT), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)

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
        times, queue, lock = [], list(reversed(forms)), threading.Lock()

        def client():
            while True:
                with lock:
                    if not queue:
                        return
                    form = queue.pop()
                elapsed = post(form)
                with lock:
                    times.append(elapsed)

        threads = [threading.Thread(target=client) for _ in range(args.concurrency)]
        workers = _pids(lambda pid, stat: stat.rsplit(")", 1)[1].split()[1] == str(server.pid))
        database = _pids(lambda pid, stat: "(postgres)" in stat or "(postmaster)" in stat)
        workers_before, database_before = _cpu_seconds(workers), _cpu_seconds(database)
        cpu_before = os.times()
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        total = time.perf_counter() - started
        cpu = os.times()
        generator_cpu = (cpu.user + cpu.system - cpu_before.user - cpu_before.system) / total
        worker_ms = (_cpu_seconds(workers) - workers_before) * 1000 / len(times)
        database_ms = (_cpu_seconds(database) - database_before) * 1000 / len(times)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
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
