"""Benchmark: group PATCHes adding 256 members to a group that already has 50,000,
and GET /Groups/<id>?excludedAttributes=members on it.

    .venv/bin/python bench/scim_groups.py [--members 50000] [--patches 50] [--batch 256] [--dba-rule]

Targets (issue 4): PATCH p99 < 60 ms with ≤ 5 queries; GET without members < 10 ms.
`--dba-rule` (issue 12): a group rule grants the group's members Database Administrator,
so each PATCH also grants it to the newcomers (one UPDATE … WHERE id IN (…), one bulk
INSERT of their audit events): still a constant number of queries.
Rows are generated with bulk inserts (accounts, memberships, directory users,
group members, team members), not through SCIM, to keep the setup short.
"""
import argparse
import json
import time

from scim_common import Timed, make_directory, scim_client, setup, show_statements


def populate(org, group, n, offset=0):
    from accounts.models import User
    from orgs.models import Membership
    from scim.models import DirectoryGroupMember, DirectoryUser
    from teams.models import TeamMember

    emails = [f"m{offset + i}@{org.slug}.test" for i in range(n)]
    User.objects.bulk_create([User(email=e, password="!") for e in emails], batch_size=5000)
    users = dict(User.objects.filter(email__in=emails).values_list("email", "pk"))
    Membership.objects.bulk_create([Membership(org=org, user_id=users[e], directory_managed=True) for e in emails],
                                   batch_size=5000)
    memberships = dict(Membership.objects.filter(org=org, user_id__in=users.values()).values_list("user_id", "pk"))
    DirectoryUser.objects.bulk_create(
        [DirectoryUser(org=org, user_id=users[e], membership_id=memberships[users[e]], user_name=e, email=e,
                       raw={"userName": e, "active": True}) for e in emails], batch_size=5000)
    directory_users = list(DirectoryUser.objects.filter(org=org, user_name__in=emails).values_list("pk",
                                                                                                  "membership_id"))
    if group is not None:
        DirectoryGroupMember.objects.bulk_create(
            [DirectoryGroupMember(org=org, group=group, directory_user_id=pk) for pk, _ in directory_users],
            batch_size=5000)
        TeamMember.objects.bulk_create(
            [TeamMember(org=org, team_id=group.team_id, membership_id=m) for _, m in directory_users],
            batch_size=5000)
    return [pk for pk, _ in directory_users]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--members", type=int, default=50000)
    parser.add_argument("--patches", type=int, default=50)
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--show-queries", action="store_true")
    parser.add_argument("--dba-rule", action="store_true", help="a group rule granting Database Administrator")
    args = parser.parse_args()
    setup()
    from scim.models import DirectoryGroup, DirectoryGroupMember

    org, token = make_directory("groups")
    client = scim_client(token)
    response = client.post(f"/scim/v2/{org.slug}/Groups", json.dumps({"displayName": "Everyone"}),
                           content_type="application/scim+json")
    group = DirectoryGroup.objects.get(pk=response.json()["id"])
    if args.dba_rule:
        from sso.models import GroupRule

        GroupRule.objects.create(org=org, group_name="Everyone", database_admin=True)
    started = time.perf_counter()
    populate(org, group, args.members)
    newcomers = populate(org, None, args.patches * args.batch, offset=args.members)
    print(f"setup: {args.members} members + {len(newcomers)} newcomers in {time.perf_counter() - started:.1f}s")

    url = f"/scim/v2/{org.slug}/Groups/{group.pk}"
    rule = " (a rule grants Database Administrator)" if args.dba_rule else ""
    patches = Timed(f"PATCH add {args.batch} members to a group of {args.members}+{rule}")
    for i in range(args.patches):
        chunk = newcomers[i * args.batch:(i + 1) * args.batch]
        body = {"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                "Operations": [{"op": "add", "path": "members", "value": [{"value": str(pk)} for pk in chunk]}]}
        response = patches.call(client.patch, url, json.dumps(body), content_type="application/scim+json")
        assert response.status_code == 204, response.content
    # The rule's work (read the rules, the newcomers and their groups, grant, audit) on top.
    patches.report(target_p99=60, max_queries=10 if args.dba_rule else 5)
    assert DirectoryGroupMember.objects.filter(group=group).count() == args.members + len(newcomers)
    if args.dba_rule:
        from orgs.models import Membership

        assert Membership.objects.filter(org=org, is_database_admin=True).count() == len(newcomers)
    if args.show_queries:
        show_statements(patches)

    lean = Timed(f"GET group of {args.members + len(newcomers)} excludedAttributes=members")
    for _ in range(100):
        response = lean.call(client.get, url, {"excludedAttributes": "members"})
        assert response.status_code == 200 and "members" not in response.json()
    lean.report(target_p99=10)
    full = Timed(f"GET group of {args.members + len(newcomers)} with all members (for comparison)")
    for _ in range(5):
        full.call(client.get, url)
    full.report()


if __name__ == "__main__":
    main()
