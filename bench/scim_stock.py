"""Benchmark: STOCK django-scim2 (0.23, its own views, adapters and filter parser),
measured the same way as Gatehouse's SCIM (bench/scim_provision.py,
scim_groups.py, scim_filter.py): in process through django.test.Client, same
request bodies, same Timed figures (p50/p99, queries per request, transaction
control excluded), same targets printed as verdicts.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/gh_scim_stock \\
        .venv/bin/python bench/scim_stock.py [--only provision,groups,filter] [sizes...]

Settings: bench/stock_settings.py (Gatehouse's settings + django_scim); stock's
URLs and the minimal adaptations to accounts.User / auth Group:
bench/stock_urls.py (read its docstring for exactly what was adapted).

Workloads, in this order, in one database:
  1. provision: for each of --users users, `GET /Users?filter=userName eq "…"`
     then `POST /Users` (Okta's sequence, same body as scim_provision.py);
  2. groups: PATCH adding --batch members to a group that already has
     --members, --patches times; then `GET /Groups/<id>?excludedAttributes=members`
     --gets times (stock ignores excludedAttributes: it returns every member);
  3. filter: `userName eq` lookups (case differing from the stored email, as in
     scim_filter.py) and misses with --total-users users in the user table
     (stock has no organizations: the table is one global directory), and a
     few pages of 100 (stock counts and slices in Python).
Bulk-inserted rows are plain accounts (accounts_user) and auth group links, the
tables stock reads.
"""
import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "stock_settings")

import argparse  # noqa: E402
import json  # noqa: E402
import random  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402

from scim_common import Timed, make_directory, scim_client, setup, show_statements  # noqa: E402

BASE = "/scim/v2"


def bulk_users(local, domain, n, want_ids=True, batch=20000):
    """n plain accounts {local}{i}@{domain} (with a first and last name, as Okta sends);
    returns their ids in order when asked."""
    from accounts.models import User

    emails = [f"{local}{i}@{domain}" for i in range(n)]
    for k in range(0, n, batch):
        User.objects.bulk_create([User(email=e, password="!", first_name="M", last_name=str(k + j))
                                  for j, e in enumerate(emails[k:k + batch])], batch_size=batch)
    if not want_ids:
        return []
    ids = {}
    for k in range(0, n, batch):
        ids.update(User.objects.filter(email__in=emails[k:k + batch]).values_list("email", "pk"))
    return [ids[e] for e in emails]


def provision(client, args):
    run = uuid.uuid4().hex[:8]
    lookups, posts = Timed("[stock] filter userName eq (before each POST)"), Timed("[stock] POST /Users")
    for i in range(args.users):
        email = f"user{i}@prov-{run}.test"
        response = lookups.call(client.get, f"{BASE}/Users", {"filter": f'userName eq "{email}"'})
        assert response.status_code == 200 and response.json()["totalResults"] == 0, response.content
        body = {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": email,
                "name": {"givenName": "U", "familyName": str(i)}, "externalId": f"00u{i}",
                "emails": [{"primary": True, "value": email, "type": "work"}], "password": "x1y2z3",
                "active": True}
        response = posts.call(client.post, f"{BASE}/Users", json.dumps(body), content_type="application/scim+json")
        assert response.status_code == 201, response.content
    lookups.report(target_p99=10)
    posts.report(target_p99=30, max_queries=3)
    pairs = sum(lookups.ms) + sum(posts.ms)
    print(f"[stock] filter+POST pairs: {args.users / (pairs / 1000):.0f}/s per process")
    if args.show_queries:
        print("queries of the last POST:")
        show_statements(posts)


def groups(client, args):
    from django.contrib.auth.models import Group

    response = client.post(f"{BASE}/Groups", json.dumps({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
                                                         "displayName": f"Everyone {uuid.uuid4().hex[:8]}"}),
                           content_type="application/scim+json")
    assert response.status_code == 201, response.content
    group = Group.objects.get(pk=response.json()["id"])
    run = uuid.uuid4().hex[:8]
    started = time.perf_counter()
    members = bulk_users("m", f"groups-{run}.test", args.members)
    through = group.user_set.through
    through.objects.bulk_create([through(group_id=group.pk, user_id=pk) for pk in members], batch_size=20000)
    newcomers = bulk_users("n", f"groups-{run}.test", args.patches * args.batch)
    print(f"[stock] setup: {args.members} members + {len(newcomers)} newcomers in {time.perf_counter() - started:.1f}s")

    url = f"{BASE}/Groups/{group.pk}"
    patches = Timed(f"[stock] PATCH add {args.batch} members to a group of {args.members}+")
    for i in range(args.patches):
        chunk = newcomers[i * args.batch:(i + 1) * args.batch]
        body = {"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                "Operations": [{"op": "add", "path": "members", "value": [{"value": str(pk)} for pk in chunk]}]}
        response = patches.call(client.patch, url, json.dumps(body), content_type="application/scim+json")
        assert response.status_code == 200, response.content  # stock answers 200 with the whole group
    patches.report(target_p99=60, max_queries=5)
    total = args.members + len(newcomers)
    assert group.user_set.count() == total
    print(f"[stock] last PATCH response: {len(response.content) / 1e6:.1f} MB, "
          f"{len(response.json()['members'])} members listed")
    if args.show_queries:
        show_statements(patches)

    lean = Timed(f"[stock] GET group of {total} excludedAttributes=members")
    for _ in range(args.gets):
        response = lean.call(client.get, url, {"excludedAttributes": "members"})
        assert response.status_code == 200, response.content
    lean.report(target_p99=10)
    listed = len(response.json().get("members", []))
    print(f"[stock] excludedAttributes=members ignored: {listed} members returned, "
          f"{len(response.content) / 1e6:.1f} MB")


def filters(client, args):
    from django.db import connection

    from accounts.models import User

    run = uuid.uuid4().hex[:8]
    started = time.perf_counter()
    present = User.objects.count()
    wanted = max(0, args.total_users - present)
    domain = f"filter-{run}.test"
    bulk_users("u", domain, wanted, want_ids=False)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE accounts_user")
    total = User.objects.count()
    print(f"[stock] setup: {wanted} users added, {total} in the user table (one global directory: stock has no "
          f"organizations), in {time.perf_counter() - started:.1f}s")

    lookups = Timed(f"[stock] filter userName eq ({total} users, no organizations)")
    for _ in range(args.lookups):
        i = random.randrange(wanted)
        response = lookups.call(client.get, f"{BASE}/Users", {"filter": f'userName eq "U{i}@{domain}"'})
        assert response.status_code == 200 and response.json()["totalResults"] == 1, response.content
    lookups.report(target_p99=10)
    misses = Timed("[stock] filter userName eq, no match (Entra's test connection)")
    for i in range(args.lookups // 5):
        response = misses.call(client.get, f"{BASE}/Users", {"filter": f'userName eq "nobody{i}@x.test"'})
        assert response.status_code == 200 and response.json()["totalResults"] == 0, response.content
    misses.report(target_p99=10)
    if args.pages:
        pages = Timed(f"[stock] page of 100 at a random startIndex ({total} users)")
        for _ in range(args.pages):
            start = random.randrange(1, total - 100)
            body = pages.call(client.get, f"{BASE}/Users", {"startIndex": start, "count": 100}).json()
            assert body["itemsPerPage"] == 100 and body["totalResults"] == total, body
        pages.report(target_p99=30)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--only", default="provision,groups,filter")
    parser.add_argument("--users", type=int, default=10000)
    parser.add_argument("--members", type=int, default=50000)
    parser.add_argument("--patches", type=int, default=50)
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--gets", type=int, default=100)
    parser.add_argument("--total-users", type=int, default=1000000)
    parser.add_argument("--lookups", type=int, default=500)
    parser.add_argument("--pages", type=int, default=3)
    parser.add_argument("--show-queries", action="store_true")
    args = parser.parse_args()
    setup()
    from importlib.metadata import version

    print(f"stock django-scim2 {version('django-scim2')} (views, adapters, filter parser unmodified; "
          f"adaptations: bench/stock_urls.py); sizes: {vars(args)}")
    _, token = make_directory("stock")  # only for its bearer token (stock has no organizations)
    client = scim_client(token)
    only = set(args.only.split(","))
    if "provision" in only:
        provision(client, args)
    if "groups" in only:
        groups(client, args)
    if "filter" in only:
        filters(client, args)


if __name__ == "__main__":
    main()
