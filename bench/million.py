"""Benchmark: every page flat at a million users (issue 13, item 5).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/gh_million python3 dev.py bench million
    .venv/bin/python bench/million.py [--reload] [--scale 1.0] [--requests 300]

The data set (built once, reused while its marker organization is there; `--reload`
empties the database and builds it again): 1,000,000 accounts in 2,000 organizations.

  * `m100k`: SSO configured through the built-in test IdP and enabled, a verified
    domain, Directory Sync on, 100,000 users provisioned by the directory (each an
    account, a directory-managed membership, a directory user, `member.added` and
    `directory.user_created`) and 1,000 directory groups;
  * `m50k`: the same with 50,000 users, all in one directory group (its team);
  * 1,998 `msmall-…` organizations sharing the other 848,000 accounts as members added
    by hand (`member.added`), each organization with its creator, an administrator.

It is made the way the services make it, fast: every kind of row is first written by
the real service (a SCIM POST through the view, `membership_add`, `organization_create`),
and that row is then copied in bulk by `INSERT … SELECT … FROM generate_series` on
the database server, its token (`0000000`) replaced by each copy's number in every text
and JSON column, its foreign keys pointing at the copies of the rows they pointed at,
its times spread over the seconds before, its unusable password random again. Tables
and columns come from config/sql.py. After the load, a fresh user is provisioned by the
service and compared column by column with a copy (`check_copies`), and a few service
calls run on copies (in a savepoint rolled back).

Then, in process through django.test.Client as the other benchmarks: SCIM `userName eq`
(hit and miss), SCIM pages of 100 (Users and Groups, `startIndex` spread over the
whole list), the dashboard and API members pages (session and token) spread over the
100,000-member organization, and SAML sign-ins through the ACS (existing members of
`m100k`). `--scale 0.001` builds the same shape at 1/1000 (the small-data figure for
the ACS: run it against another database). PostgreSQL only.
"""
import argparse
import os
import random
import sys
import time
from pathlib import Path

os.environ["SAML_TEST_IDP"] = "true"
sys.path.insert(0, str(Path(__file__).resolve().parent))

from scim_common import Timed, setup  # noqa: E402  (sets Django up)

from django.conf import settings  # noqa: E402
from django.db import connection, models, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.utils import timezone  # noqa: E402

from accounts.models import User  # noqa: E402
from config import sql  # noqa: E402
from orgs.models import AuditEvent, Membership, Organization, Plan  # noqa: E402
from scim.models import DirectoryGroup, DirectoryUser  # noqa: E402

TOKEN = "0000000"  # in every text of a template row; each copy has its number there
MARKER = "million-marker"
BIG, GROUPED, SMALL = "m100k", "m50k", "msmall"
BATCH = 50_000


def sizes(scale: float) -> dict:
    return {"big": max(1, round(100_000 * scale)), "grouped": max(1, round(50_000 * scale)),
            "small_orgs": max(1, round(1_998 * scale)), "small_members": max(1, round(848_000 * scale)),
            "groups": max(100, round(1_000 * scale))}  # at least a full page


# Copying a template row ----------------------------------------------------------------


def _copy(model, template_pk: int, *, joins: str = "", overrides: dict | None = None, first: int, last: int,
          params=()) -> int:
    """INSERT copies number `first`..`last` (`g`) of `model`'s row `template_pk`; each column
    as the template's, except: `overrides` (SQL over `g`, `tpl` and `joins`), text and JSON
    with TOKEN replaced by `g` on 7 digits, times moved back by (last - g) × 10 ms, and an
    unusable password made random again. Returns the rows inserted."""
    overrides = overrides or {}
    names, values = [], []
    for field in model._meta.concrete_fields:
        if field.primary_key:
            continue
        column = sql.column(model, field.attname, "tpl")
        if field.name in overrides or field.attname in overrides:
            value = overrides.get(field.name, overrides.get(field.attname))
        elif isinstance(field, models.JSONField):
            value = f"replace({column}::text, '{TOKEN}', lpad(g::text, 7, '0'))::jsonb"
        elif isinstance(field, models.DateTimeField):
            value = f"{column} - ({last} - g) * interval '10 milliseconds'"
        elif field.name == "password":
            value = f"CASE WHEN {column} LIKE '!%%' THEN '!' || substr(md5(random()::text) || md5(random()::text), 1, 40) " \
                    f"ELSE {column} END"
        elif isinstance(field, (models.CharField, models.TextField)):
            value = f"replace({column}, '{TOKEN}', lpad(g::text, 7, '0'))"
        else:
            value = column
        names.append(sql.column(model, field.attname))
        values.append(value)
    statement = (f"INSERT INTO {sql.table(model)} ({', '.join(names)}) SELECT {', '.join(values)} "
                 f"FROM {sql.table(model)} tpl CROSS JOIN generate_series(%s::bigint, %s::bigint) g {joins} "
                 f"WHERE {sql.column(model, 'pk', 'tpl')} = %s")
    with connection.cursor() as cursor:
        cursor.execute(statement, [first, last, *params, template_pk])
        return cursor.rowcount


def _email(template_email: str) -> str:
    """The SQL of copy g's email, from the template's (the TOKEN in it)."""
    left, right = template_email.split(TOKEN)
    return f"'{left}' || lpad(g::text, 7, '0') || '{right}'"


def _join_account(email: str) -> str:
    return f"JOIN {sql.table(User)} u ON {sql.column(User, 'email', 'u')} = {email}"


def _join_membership(org_expression: str) -> str:
    return (f"JOIN {sql.table(Membership)} m ON {sql.column(Membership, 'user', 'm')} = {sql.column(User, 'pk', 'u')} "
            f"AND {sql.column(Membership, 'org', 'm')} = {org_expression}")


def _audit_of(org, target_type: str, target_id) -> AuditEvent:
    """The event that made the target (the first about it: sign-ins add others later)."""
    return AuditEvent.objects.filter(org=org, target_type=target_type, target_id=str(target_id)).order_by("pk")[0]


def copy_provisioned(org, template: DirectoryUser, first: int, last: int) -> None:
    """Copies of everything a SCIM POST of a new email wrote for `template`."""
    email = _email(template.user.email)
    membership_added = _audit_of(org, "membership", template.membership_id)
    user_created = _audit_of(org, "directoryuser", template.pk)
    m, u = sql.column(Membership, "pk", "m"), sql.column(User, "pk", "u")
    d = sql.column(DirectoryUser, "pk", "d")
    for start in range(first, last + 1, BATCH):
        stop = min(last, start + BATCH - 1)
        with transaction.atomic():
            _copy(User, template.user_id, first=start, last=stop)
            _copy(Membership, template.membership_id, joins=_join_account(email), overrides={"user": u},
                  first=start, last=stop)
            join_both = _join_account(email) + " " + _join_membership(str(org.pk))
            _copy(AuditEvent, membership_added.pk, joins=join_both, overrides={"target_id": f"{m}::text"},
                  first=start, last=stop)
            _copy(DirectoryUser, template.pk, joins=join_both, overrides={"user": u, "membership": m},
                  first=start, last=stop)
            join_directory_user = (join_both + f" JOIN {sql.table(DirectoryUser)} d ON "
                                   f"{sql.column(DirectoryUser, 'membership', 'd')} = {m}")
            _copy(AuditEvent, user_created.pk, joins=join_directory_user, overrides={"target_id": f"{d}::text"},
                  first=start, last=stop)
        print(f"  {org.slug}: {stop}/{last}", flush=True)


def copy_members(orgs: list[tuple[int, int, str]], template: Membership, first: int, last: int) -> None:
    """Copies of an account and what `membership_add` wrote for it by the organization's
    administrator, copy g in organization orgs[g % len(orgs)] ((id, admin id, admin email))."""
    email = _email(template.user.email)
    added = _audit_of(template.org, "membership", template.pk)
    org_of = "o.id"
    joins = ("JOIN (SELECT id, admin, label, n - 1 AS n FROM unnest(%s::bigint[], %s::bigint[], %s::text[]) "
             f"WITH ORDINALITY AS t(id, admin, label, n)) o ON o.n = g %% {len(orgs)}")
    params = [[o[0] for o in orgs], [o[1] for o in orgs], [o[2] for o in orgs]]
    u, m = sql.column(User, "pk", "u"), sql.column(Membership, "pk", "m")
    for start in range(first, last + 1, BATCH):
        stop = min(last, start + BATCH - 1)
        with transaction.atomic():
            _copy(User, template.user_id, first=start, last=stop)
            _copy(Membership, template.pk, joins=joins + " " + _join_account(email),
                  overrides={"user": u, "org": org_of}, first=start, last=stop, params=params)
            _copy(AuditEvent, added.pk, joins=joins + " " + _join_account(email) + " " + _join_membership(org_of),
                  overrides={"org": org_of, "actor": "o.admin", "actor_label": "o.label", "target_id": f"{m}::text"},
                  first=start, last=stop, params=params)
        print(f"  {SMALL}: {stop}/{last}", flush=True)


# Building the data set -----------------------------------------------------------------


def _admin(email: str) -> User:
    return User.objects.create_user(email, None, email_verified_at=timezone.now())


def _user_body(key: str, domain: str) -> dict:
    """What Okta POSTs to /Users."""
    email = f"{key}@{domain}"
    return {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": email,
            "name": {"givenName": f"Given{key}", "familyName": f"Family{key}"},
            "emails": [{"primary": True, "value": email, "type": "work"}], "displayName": f"Given{key} Family{key}",
            "externalId": f"00u{key}", "active": True}


def directory_org(slug: str, admin: User):
    """An organization as SSO and Directory Sync leave it: SSO configured with the test IdP
    and enabled, its domain verified, Directory Sync on. Returns (org, SCIM token)."""
    from orgs.services import organization_create
    from scim.services import directory_enable
    from sso import test_idp
    from sso.models import VerifiedDomain
    from sso.services import sso_configure, sso_enable

    org = organization_create(slug=slug, name=f"Million {slug}", creator=admin, plan=Plan.ENTERPRISE)
    _, cert = test_idp.keypair()
    sso_configure(org=org, actor=admin, idp_entity_id=test_idp.entity_id(), idp_sso_url=test_idp.sso_url(),
                  certificates=[cert], allow_idp_initiated=True)
    # Benchmark set-up: the domain's DNS check passed (sso.services checks a TXT record).
    VerifiedDomain.objects.create(org=org, domain=f"{slug}.test", txt_token="million", verified_at=timezone.now())
    sso_enable(org=org, actor=admin)
    _, token = directory_enable(org=org, actor=admin)
    return org, token


def scim(token: str) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Bearer {token}")


def provision(org, token: str, count: int) -> DirectoryUser:
    """The template user through a real SCIM POST, then its `count - 1` copies."""
    response = scim(token).post(f"/scim/v2/{org.slug}/Users", _user_body(f"a{TOKEN}", f"{org.slug}.test"),
                                content_type="application/scim+json")
    assert response.status_code == 201, response.content
    template = DirectoryUser.objects.select_related("user").get(pk=int(response.json()["id"]))
    if count > 1:
        copy_provisioned(org, template, 1, count - 1)
    return template


def build(scale: float) -> None:
    from orgs.services import membership_add, organization_create

    n = sizes(scale)
    started = time.perf_counter()
    big, big_token = directory_org(BIG, _admin(f"admin@{BIG}.test"))
    provision(big, big_token, n["big"])
    client = scim(big_token)
    for i in range(n["groups"]):  # through the view: groups are few, each its team
        assert client.post(f"/scim/v2/{BIG}/Groups", {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
                                                      "displayName": f"Group {i:04}", "externalId": f"00g{i}"},
                           content_type="application/scim+json").status_code == 201
    print(f"{BIG}: {n['big']} users, {n['groups']} groups ({time.perf_counter() - started:.0f} s)", flush=True)

    grouped, grouped_token = directory_org(GROUPED, _admin(f"admin@{GROUPED}.test"))
    provision(grouped, grouped_token, n["grouped"])
    client = scim(grouped_token)
    response = client.post(f"/scim/v2/{GROUPED}/Groups", {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
                                                          "displayName": "Everyone", "externalId": "00geveryone"},
                           content_type="application/scim+json")
    assert response.status_code == 201, response.content
    group = response.json()["id"]
    ids = list(DirectoryUser.objects.filter(org=grouped).order_by("pk").values_list("pk", flat=True))
    for start in range(0, len(ids), 5_000):  # the real PATCH, as an IdP pushes a big group
        body = {"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                "Operations": [{"op": "add", "path": "members", "value": [{"value": str(i)}
                                                                          for i in ids[start:start + 5_000]]}]}
        response = client.patch(f"/scim/v2/{GROUPED}/Groups/{group}", body, content_type="application/scim+json")
        assert response.status_code in (200, 204), response.content
    print(f"{GROUPED}: {n['grouped']} users in one group ({time.perf_counter() - started:.0f} s)", flush=True)

    orgs = []
    for i in range(n["small_orgs"]):
        creator = _admin(f"admin@{SMALL}-{i:04}.test")
        org = organization_create(slug=f"{SMALL}-{i:04}", name=f"Small {i:04}", creator=creator, plan=Plan.SCALER)
        orgs.append((org.pk, creator.pk, creator.email))
        if i % 500 == 499:
            print(f"  {i + 1}/{n['small_orgs']} organizations", flush=True)
    first_org = Organization.objects.get(pk=orgs[0][0])
    admin = User.objects.get(email=f"admin@{SMALL}-0000.test")
    template = membership_add(org=first_org, user=User.objects.create_user(f"s{TOKEN}@{SMALL}.test", None),
                              actor=admin)
    # Copy g goes to orgs[g % len(orgs)]: the template (g = 0) is in orgs[0].
    copy_members(orgs, Membership.objects.select_related("user", "org").get(pk=template.pk), 1,
                 n["small_members"] - 1)
    print(f"{len(orgs)} small organizations, {n['small_members']} members ({time.perf_counter() - started:.0f} s)")
    with connection.cursor() as cursor:
        # What autovacuum does soon after a bulk load: statistics and the visibility map.
        cursor.execute("VACUUM ANALYZE")
    admin = User.objects.get(email=f"admin@{BIG}.test")
    organization_create(slug=MARKER, name=f"scale {scale}", creator=admin)
    print(f"data set built in {time.perf_counter() - started:.0f} s", flush=True)


def ensure(scale: float, reload: bool) -> None:
    marker = Organization.objects.filter(slug=MARKER).first()
    if marker is not None and marker.name == f"scale {scale}" and not reload:
        print(f"reusing the data set ({marker.name}, built {marker.created_at:%Y-%m-%d %H:%M})")
        return
    if Organization.objects.exists():
        print("emptying the database …", flush=True)
        with connection.cursor() as cursor:
            tables = connection.introspection.django_table_names(only_existing=True, include_views=False)
            cursor.execute(f"TRUNCATE {', '.join(connection.ops.quote_name(t) for t in tables)} RESTART IDENTITY CASCADE")
    build(scale)


def counts() -> str:
    return (f"{User.objects.count():,} accounts, {Organization.objects.count():,} organizations, "
            f"{Membership.objects.count():,} memberships, {DirectoryUser.objects.count():,} directory users, "
            f"{AuditEvent.objects.count():,} audit events")


# Checking the copies ---------------------------------------------------------------------


def _fields(obj, key: str) -> dict:
    """`obj`'s columns as a copy and the service's own row must agree on them: its
    number back to TOKEN; ids, times and the random unusable password aside."""
    found = {}
    for field in obj._meta.concrete_fields:
        value = getattr(obj, field.attname)
        if field.primary_key or isinstance(field, models.ForeignKey) or field.name == "target_id":
            continue
        if isinstance(field, models.DateTimeField):
            value = value is not None
        elif field.name == "password":
            value = (value[:1], len(value))
        elif isinstance(value, str | dict | list):
            import json

            value = json.loads(json.dumps(value).replace(key, TOKEN))
        found[field.attname] = value
    return found


def _provisioned_rows(org, directory_user_pk: int, key: str) -> dict:
    directory_user = DirectoryUser.objects.get(pk=directory_user_pk)
    return {"account": _fields(User.objects.get(pk=directory_user.user_id), key),
            "membership": _fields(Membership.objects.get(pk=directory_user.membership_id), key),
            "member.added": _fields(_audit_of(org, "membership", directory_user.membership_id), key),
            "directory user": _fields(directory_user, key),
            "directory.user_created": _fields(_audit_of(org, "directoryuser", directory_user.pk), key)}


def check_copies(token: str, size: int) -> None:
    """A user the service provisions now, column by column against a copy; then real
    service calls on copies. Everything in a savepoint rolled back."""
    org = Organization.objects.get(slug=BIG)
    client = scim(token)
    number = min(size - 1, 77)  # not one the ACS signs in
    copy = DirectoryUser.objects.get(org=org, user_name=f"a{number:07}@{BIG}.test")
    with transaction.atomic():
        key = "9999999"
        response = client.post(f"/scim/v2/{BIG}/Users", _user_body(f"a{key}", f"{BIG}.test"),
                               content_type="application/scim+json")
        assert response.status_code == 201, response.content
        theirs = _provisioned_rows(org, int(response.json()["id"]), key)
        ours = _provisioned_rows(org, copy.pk, f"{number:07}")
        for kind in theirs:
            if theirs[kind] != ours[kind]:
                diff = {k: (theirs[kind][k], ours[kind].get(k)) for k in theirs[kind] if theirs[kind][k] != ours[kind].get(k)}
                raise SystemExit(f"a copied {kind} differs from the service's: {diff}")
        print(f"check: a copy's {', '.join(theirs)} rows equal the service's, column by column")
        # Real service calls on copies.
        base = f"/scim/v2/{BIG}/Users"
        body = client.get(base, {"filter": f'userName eq "a{number:07}@{BIG}.test"'}).json()
        assert body["totalResults"] == 1 and body["Resources"][0]["id"] == str(copy.pk), body
        response = client.patch(f"{base}/{copy.pk}", {"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                                                      "Operations": [{"op": "replace", "value": {"active": False}}]},
                                content_type="application/scim+json")
        assert response.status_code == 200 and response.json()["active"] is False, response.content
        assert not Membership.objects.filter(pk=copy.membership_id).exists()
        from orgs.services import membership_remove

        small = Membership.objects.filter(org__slug=f"{SMALL}-0001", role=Membership.Role.MEMBER).first()
        if small is not None:
            membership_remove(org=small.org, membership=small, actor=None)
        print("check: SCIM filter and deactivation on a copied user, membership_remove on a copied member: done")
        transaction.set_rollback(True)


# Measuring -------------------------------------------------------------------------------


class Measured(Timed):
    """Timed, and the CPU time this process spent per request (steadier than wall time on
    a shared machine: waiting for a core is not in it, nor PostgreSQL's own time)."""

    def __init__(self, label):
        super().__init__(label)
        self.cpu = []

    def call(self, fn, *args, **kwargs):
        started = time.process_time()
        try:
            return super().call(fn, *args, **kwargs)
        finally:
            self.cpu.append((time.process_time() - started) * 1000)

    def report(self, target_p99=None, max_queries=None):
        line = super().report(target_p99, max_queries)
        cpu = sorted(self.cpu)
        print(f"    CPU of this process per request: p50={cpu[len(cpu) // 2]:.2f}ms "
              f"p99={cpu[min(len(cpu) - 1, int(0.99 * len(cpu)))]:.2f}ms")
        return line


def spread(total: int, n: int) -> list[int]:
    """n positions 0 ≤ p < total spread evenly over the list, in random order."""
    positions = [(i * max(0, total - 1)) // max(1, n - 1) for i in range(n)]
    random.shuffle(positions)
    return positions


def measure_scim(token: str, size: int, groups: int, n: int) -> list:
    client = scim(token)
    base = f"/scim/v2/{BIG}/Users"
    results = []
    client.get(base, {"filter": f'userName eq "a0000000@{BIG}.test"'})  # warm-up
    hits = Measured(f"SCIM userName eq, hit ({size:,} users)")
    for i in spread(size, n):
        body = hits.call(client.get, base, {"filter": f'userName eq "A{i:07}@{BIG}.test"'}).json()
        assert body["totalResults"] == 1, body
    misses = Measured("SCIM userName eq, no match")
    for i in range(n):
        assert misses.call(client.get, base, {"filter": f'userName eq "nobody{i}@{BIG}.test"'}).json()[
            "totalResults"] == 0
    users = Measured(f"SCIM Users page of 100 (startIndex over {size:,})")
    for i in spread(size - 99, n):
        body = users.call(client.get, base, {"startIndex": i + 1, "count": 100}).json()
        assert body["totalResults"] == size and body["itemsPerPage"] == min(100, size - i), body["totalResults"]
    pages = Measured(f"SCIM Groups page of 100 (startIndex over {groups:,})")
    for i in spread(max(1, groups - 99), n):
        body = pages.call(client.get, f"/scim/v2/{BIG}/Groups", {"startIndex": i + 1, "count": 100}).json()
        assert body["totalResults"] == groups, body["totalResults"]
    for timed, target in ((hits, 10), (misses, 10), (users, 30), (pages, 30)):
        results.append((timed, target, timed.report(target_p99=target)))
    return results


def measure_members(size: int, n: int) -> list:
    from orgs.models import ServiceToken
    from orgs.services import service_token_create

    org = Organization.objects.get(slug=BIG)
    admin = User.objects.get(email=f"admin@{BIG}.test")
    session = Client()
    session.force_login(admin, backend="accounts.backends.EmailBackend")
    ServiceToken.objects.filter(org=org, name="million").delete()
    _, secret = service_token_create(org=org, name="million", actor=admin)
    bearer = Client(headers={"Authorization": f"Bearer {secret}"})
    total = Membership.objects.filter(org=org).count()
    offsets = spread(total - 49, n)
    results = []
    for label, client, url in (
            ("API members page of 50 (session)", session, f"/api/v1/organizations/{BIG}/members?limit=50&offset={{}}"),
            ("API members page of 50 (token)", bearer, f"/api/v1/organizations/{BIG}/members?limit=50&offset={{}}"),
            ("dashboard members page", session, f"/orgs/{BIG}/settings/members/?page={{}}")):
        timed = Measured(f"{label} ({total:,} members)")
        pages = [o // 50 + 1 for o in offsets] if "page=" in url else offsets
        assert client.get(url.format(pages[0])).status_code == 200  # warm-up
        for page in pages:
            response = timed.call(client.get, url.format(page))
            assert response.status_code == 200, (url.format(page), response.status_code, response.content[:300])
        results.append((timed, 50, timed.report(target_p99=50)))
    return results


def measure_acs(n: int, users: int = 50) -> list:
    import base64
    from urllib.parse import urlencode

    from sso import saml, test_idp

    acs, audience = saml.acs_url(BIG), saml.sp_entity_id(BIG)
    emails = [f"a{i:07}@{BIG}.test" for i in range(users)]

    def sign(count):
        return [urlencode({"SAMLResponse": base64.b64encode(test_idp.build_response(
            acs=acs, audience=audience, email=emails[i % users], first_name=f"Givena{emails[i % users][1:8]}",
            last_name=f"Familya{emails[i % users][1:8]}", in_response_to=None)).decode(), "RelayState": ""})
            for i in range(count)]

    client = Client()
    for form in sign(users):  # warm-up: the first sign-in links each account
        client.cookies.clear()
        response = client.post(f"/sso/{BIG}/acs/", form, content_type="application/x-www-form-urlencoded")
        assert response.status_code == 302, response.content[:300]
    forms = sign(n)
    timed = Measured(f"ACS sign-in, existing members of {BIG}")
    for form in forms:
        client.cookies.clear()
        response = timed.call(client.post, f"/sso/{BIG}/acs/", form, content_type="application/x-www-form-urlencoded")
        assert response.status_code == 302, response.content[:300]
    return [(timed, None, timed.report())]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reload", action="store_true", help="empty the database and build the data set again")
    parser.add_argument("--scale", type=float, default=1.0, help="1.0: a million accounts; 0.001: a thousand")
    parser.add_argument("--requests", type=int, default=300, help="requests per workload")
    parser.add_argument("--only", choices=["scim", "members", "acs"], action="append")
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://")):
        raise SystemExit("bench/million.py needs DATABASE_URL=postgres://…")
    settings.SAML_TEST_IDP_DIR = settings.BASE_DIR / "var" / "million-idp"
    settings.BASE_URL = "http://testserver"
    setup()
    print(f"{time.strftime('%Y-%m-%d %H:%M %Z')}; load average {' '.join(f'{x:.2f}' for x in os.getloadavg())} "
          f"on {os.cpu_count()} cores (a shared machine)", flush=True)
    ensure(args.scale, args.reload)
    print(counts())
    from scim.services import directory_rotate_token

    n = sizes(args.scale)
    org = Organization.objects.get(slug=BIG)
    token = directory_rotate_token(org=org, actor=None)
    check_copies(token, n["big"])
    only = set(args.only or ["scim", "members", "acs"])
    if "scim" in only:
        measure_scim(token, n["big"], DirectoryGroup.objects.filter(org=org).count(), args.requests)
    if "members" in only:
        measure_members(n["big"], args.requests)
    if "acs" in only:
        measure_acs(args.requests)
    print(f"done; load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
