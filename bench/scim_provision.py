"""Benchmark: provisioning users the way Okta does — a `userName eq` filter, then a POST.

    .venv/bin/python bench/scim_provision.py [--users 10000] [--show-queries]

Targets (issue 4): ≥ 250 POST/s sustained on 2 cores (one process = one core, so
≥ 125/s per process), p99 < 30 ms, ≤ 3 queries per POST.
"""
import argparse
import json

from scim_common import Timed, make_directory, scim_client, setup, show_statements


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=10000)
    parser.add_argument("--show-queries", action="store_true")
    args = parser.parse_args()
    setup()
    org, token = make_directory("prov")
    client = scim_client(token)
    base = f"/scim/v2/{org.slug}/Users"
    lookups, posts = Timed("filter userName eq (before each POST)"), Timed("POST /Users")
    for i in range(args.users):
        email = f"user{i}@{org.slug}.test"
        response = lookups.call(client.get, base, {"filter": f'userName eq "{email}"'})
        assert response.status_code == 200 and response.json()["totalResults"] == 0
        body = {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": email,
                "name": {"givenName": "U", "familyName": str(i)}, "externalId": f"00u{i}",
                "emails": [{"primary": True, "value": email, "type": "work"}], "password": "x1y2z3",
                "active": True}
        response = posts.call(client.post, base, json.dumps(body), content_type="application/scim+json")
        assert response.status_code == 201, response.content
    lookups.report(target_p99=10)
    posts.report(target_p99=30, max_queries=3)
    pairs = sum(lookups.ms) + sum(posts.ms)
    print(f"filter+POST pairs: {args.users / (pairs / 1000):.0f}/s per process")
    if args.show_queries:
        print("queries of the last POST:")
        show_statements(posts)


if __name__ == "__main__":
    main()
