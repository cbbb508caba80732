"""Benchmark: draining a webhook backlog of 100,000 events to a local receiver.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/gh_bench python3 dev.py bench webhooks_drain
    .venv/bin/python bench/webhooks_drain.py [--events 100000]

Creates a fresh organization with one webhook endpoint, loads a backlog of N events
(audit rows and their outbox rows, bulk-inserted, unnumbered as a burst of commits
leaves them), then measures
  * the sequencer: orgs.events.sequence numbering the whole backlog (batches of 10,000);
  * the drain: webhooks.delivery.deliver, as a worker runs it, POSTing every event, one
    signed request each, in order, to a receiver on 127.0.0.1 (an http.server in its own
    process, answering 200), with the delivery log and the cursor written per event —
    printed as events/s, with the SQL statements per event.
The organization is deleted afterwards. Only here (and in tests) is 127.0.0.1 let through
config.outbound, and http:// allowed: production delivers to public https endpoints only.
"""
import argparse
import ipaddress
import multiprocessing
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402

from accounts.models import User  # noqa: E402
from config import outbound  # noqa: E402
from orgs import events  # noqa: E402
from orgs.audit import audit_row  # noqa: E402
from orgs.models import AuditEvent, Organization, OrgEvent, Plan  # noqa: E402
from orgs.services import organization_create  # noqa: E402
from webhooks import delivery  # noqa: E402
from webhooks.models import WebhookEndpoint  # noqa: E402
from webhooks.services import webhook_create  # noqa: E402

SLUG = "bench-webhooks"
BATCH = 5000


def receive(port_out) -> None:
    """The receiver: answers every POST with 200, in its own process (not this one's GIL)."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self):
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.send_header("Connection", "close")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    port_out.put(server.server_port)
    server.serve_forever()


def load(org, admin, n: int) -> None:
    """N team.member_added events, as many commits would leave them: unnumbered."""
    for start in range(0, n, BATCH):
        rows = [audit_row(org=org, actor=admin, event="team.member_added", target_label=f"m{i}@bench.test",
                          new={"team": "bench"}) for i in range(start, min(start + BATCH, n))]
        OrgEvent.objects.bulk_create([events.event_row(audit) for audit in AuditEvent.objects.bulk_create(rows)])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=100_000)
    args = parser.parse_args()
    call_command("migrate", verbosity=0, interactive=False)
    # The receiver is on 127.0.0.1 over http: allowed here as in development and tests.
    settings.DEBUG = True
    loopback, public = ipaddress.ip_address("127.0.0.1"), outbound.is_public
    outbound.is_public = lambda ip: ip == loopback or public(ip)
    settings.WEBHOOK_DRAIN_SECONDS = 24 * 3600

    ports = multiprocessing.Queue()
    receiver = multiprocessing.Process(target=receive, args=(ports,), daemon=True)
    receiver.start()
    url = f"http://127.0.0.1:{ports.get(timeout=10)}/hooks"

    Organization.objects.filter(slug=SLUG).delete()
    admin = User.objects.filter(email=f"admin@{SLUG}.test").first() or User.objects.create_user(
        f"admin@{SLUG}.test", None, email_verified_at=timezone.now())
    org = organization_create(slug=SLUG, name="Bench webhooks", creator=admin, plan=Plan.ENTERPRISE)
    try:
        endpoint, _ = webhook_create(org=org, actor=admin, url=url, event_types=["team.member_added"])
        print(f"{connection.vendor}; loading {args.events:,} events …", flush=True)
        started = time.perf_counter()
        load(org, admin, args.events)
        print(f"  loaded in {time.perf_counter() - started:.1f} s", flush=True)

        # Timed apart: the sequencer's signal would start the delivery at once (tasks run
        # eagerly here, as without a broker).
        events.events_sequenced.disconnect(dispatch_uid="webhooks.deliver_new_events")
        started = time.perf_counter()
        numbered = events.sequence(org.pk)
        took = time.perf_counter() - started
        print(f"sequencer: {numbered:,} events numbered in {took:.2f} s ({numbered / took:,.0f} events/s)", flush=True)

        statements = 0

        def count(execute, sql, params, many, context):
            nonlocal statements
            statements += 1
            return execute(sql, params, many, context)

        started = time.perf_counter()
        with connection.execute_wrapper(count):
            delivered = delivery.deliver(endpoint.pk)
        took = time.perf_counter() - started
        endpoint.refresh_from_db()
        assert delivered == args.events and endpoint.delivered_seq == events.last_seq(org.pk), \
            (delivered, list(endpoint.deliveries.values_list("status_code", "error")[:3]))
        print(f"drain: {delivered:,} events delivered in order in {took:.1f} s = {delivered / took:,.0f} events/s "
              f"({took / delivered * 1000:.2f} ms each; {statements / delivered:.2f} SQL statements per event)")
    finally:
        receiver.terminate()
        WebhookEndpoint.objects.filter(org=org).delete()
        Organization.objects.filter(pk=org.pk).delete()


if __name__ == "__main__":
    main()
