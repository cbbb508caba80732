"""scim/fastpath.py against its specification, the ORM paths of scim/services.py: on the
same input, every row written (every column of every table) and every value returned
must be the same (tests/fastpath.py). The PostgreSQL-only paths are marked `postgres`
(CI runs them with REQUIRE_POSTGRES=1: they fail rather than skip there); the rest run
on both databases. Then what the fast paths are for: their statement counts, and the
provisioning statement's conflicts."""
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import User
from config.errors import NotFound
from orgs.models import AuditEvent, Membership, Organization, OrgEvent
from scim import fastpath, resources, services
from scim.models import DirectoryGroup, DirectoryUser
from sso.models import VerifiedDomain
from tests.fastpath import run, run_raising

from .conftest import ScimClient, assert_scim_error, set_role_management, user_body
from .test_races import run_concurrently

pytestmark = pytest.mark.django_db

TRANSACTION_CONTROL = ("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT", "BEGIN", "COMMIT")


def _statements(captured) -> list[str]:
    return [q["sql"] for q in captured.captured_queries if not q["sql"].upper().startswith(TRANSACTION_CONTROL)]


# scim_user_create: POST /Users for a new email (PostgreSQL) -------------------------------


USER_CASES = {
    "member": ("new@acme.test", {}, False),
    "managed admin role": ("new@acme.test", {"planetscale_role": "admin"}, True),  # DS4
    "role kept, not applied": ("new@acme.test", {"planetscale_role": "admin"}, False),
    "inactive: an account, no membership": ("new@acme.test", {"active": False}, False),
    "verified domain: claimed and verified (E14)": ("new@verified.test", {}, False),
    "userName not an email, the work email is": ("jdoe", {"emails": [{"value": "Jo.Doe@acme.test", "type": "work"}]},
                                                 False),
    "no names": ("new@acme.test", {"name": None, "displayName": None}, False),
    "names longer than an account keeps": ("new@acme.test", {"name": {"givenName": "G" * 150,
                                                                       "familyName": "F" * 150}}, False),
}


@pytest.fixture
def provisioning(scim, sso_org, admin_user):
    VerifiedDomain.objects.create(org=sso_org, domain="verified.test", txt_token="t", verified_at=timezone.now())

    def inputs(user_name, extra, managed_roles):
        if managed_roles:
            set_role_management(sso_org)
        # As a SCIM request has them: the organization read with its directory and SSO
        # connection (scim.services.directory_authenticate).
        org = Organization.objects.select_related("directory", "sso_connection").get(pk=sso_org.pk)
        body = {key: value for key, value in {**user_body(user_name, password="hunter2-secret"), **extra}.items()
                if value is not None}
        return {"org": org, "directory": org.directory,
                "fields": resources.parse_user(body, role_attribute=org.sso_connection.role_attribute)}

    return inputs


@pytest.mark.postgres
@pytest.mark.parametrize("case", USER_CASES)
def test_scim_user_create_writes_and_returns_what_the_orm_path_does(provisioning, case):
    inputs = provisioning(*USER_CASES[case])
    orm = run(services.scim_user_create_orm, **inputs)
    fast = run(fastpath.scim_user_create, **inputs)
    assert fast.returned is not None  # it applies to a new email
    assert fast == orm
    assert len(fast.statements) == 1 < len(orm.statements)
    account = fast.written[User._meta.db_table]["inserted"][0]
    assert account["password"] == "<unusable password>"  # the body's password is ignored
    assert account["claimed"] is (account["email_verified_at"] is not None) is (case.startswith("verified domain"))
    assert fast.returned["fields"]["created_account"] is True
    tables = {User._meta.db_table, DirectoryUser._meta.db_table, AuditEvent._meta.db_table, OrgEvent._meta.db_table}
    if inputs["fields"].active:
        tables.add(Membership._meta.db_table)
    assert set(fast.written) == tables
    assert all(not (change["updated"] or change["deleted"]) for change in fast.written.values())
    events = [row["event"] for row in fast.written[AuditEvent._meta.db_table]["inserted"]]
    assert events == (["member.added"] if inputs["fields"].active else []) + ["directory.user_created"]
    # The webhook outbox: one event per audit row, in the same order, not numbered yet (orgs.events).
    outbox = fast.written[OrgEvent._meta.db_table]["inserted"]
    assert [(row["type"], row["audit_id"], row["seq"]) for row in outbox] == [
        (row["event"], row["id"], None) for row in fast.written[AuditEvent._meta.db_table]["inserted"]]


@pytest.mark.postgres
def test_scim_user_create_leaves_an_existing_account_to_the_orm_path(provisioning, outsider, member_user):
    for email in (outsider.email, member_user.email):
        inputs = provisioning(email, {}, False)
        assert run(fastpath.scim_user_create, **inputs).returned is None
        assert run(fastpath.scim_user_create, **inputs).written == {}  # nothing, not even the audit events


def test_scim_user_create_leaves_a_user_without_an_email_to_the_orm_path(provisioning):
    fast = run(fastpath.scim_user_create, **provisioning("jdoe", {"emails": None}, False))
    assert fast.returned is None and fast.written == {} and fast.statements == []


@pytest.mark.postgres
def test_a_new_email_costs_the_token_lookup_and_one_statement(scim):
    with CaptureQueriesContext(connection) as captured:
        response = scim.post("Users", user_body("one@acme.test", password="hunter2-secret"))
    assert response.status_code == 201
    statements = _statements(captured)
    assert len(statements) == 2, statements
    # The organization's verified domains decide claimed or not (E14), read inside the statement.
    assert statements[1].startswith("WITH verified AS (SELECT EXISTS") and "account AS (INSERT INTO" in statements[1]


@pytest.mark.postgres
def test_audit_events_name_the_directory_and_the_rows(scim, sso_org):
    response = scim.post("Users", user_body("jo@acme.test", password="hunter2-secret", planetscale_role="admin"))
    assert response.status_code == 201
    directory_user = DirectoryUser.objects.get(org=sso_org, user_name="jo@acme.test")
    audit = AuditEvent.objects.filter(org=sso_org, target_label="jo@acme.test").order_by("pk").values()
    assert [(row["event"], row["actor_id"], row["actor_label"], row["target_type"], row["target_id"],
             row["target_label"], row["old"], row["new"], row["ip_address"], row["org_id"]) for row in audit] == [
        ("member.added", None, "directory", "membership", str(directory_user.membership_id), "jo@acme.test", None,
         {"role": "member", "database_admin": False, "reason": "directory_provisioned"}, "127.0.0.1", sso_org.pk),
        ("directory.user_created", None, "directory", "directoryuser", str(directory_user.pk), "jo@acme.test", None,
         {"active": True, "role": "admin"}, "127.0.0.1", sso_org.pk),
    ]
    membership = Membership.objects.get(pk=directory_user.membership_id)
    assert membership.directory_managed and not membership.owner_unconfirmed and directory_user.created_account


@pytest.mark.postgres
def test_a_taken_username_rolls_back_the_new_account(scim, sso_org):
    assert scim.post("Users", user_body("jdoe", emails=[{"value": "first@acme.test", "type": "work"}])
                     ).status_code == 201
    counts = (User.objects.count(), Membership.objects.count(), AuditEvent.objects.count())
    with CaptureQueriesContext(connection) as captured:
        response = scim.post("Users", user_body("JDoe", emails=[{"value": "second@acme.test", "type": "work"}]))
    assert_scim_error(response, 409, "uniqueness")
    assert "jdoe" in response.json()["detail"]
    assert len(_statements(captured)) == 2  # no lookup after the failed statement: its constraint names the conflict
    assert (User.objects.count(), Membership.objects.count(), AuditEvent.objects.count()) == counts
    assert not User.objects.filter(email="second@acme.test").exists()
    # The transaction is usable again (the service's savepoint was rolled back).
    assert scim.post("Users", user_body("third@acme.test")).status_code == 201


def test_an_existing_account_is_attached_without_its_owners_agreement(scim, sso_org, outsider):
    response = scim.post("Users", user_body(outsider.email, password="hunter2-secret"))
    assert response.status_code == 201, response.content
    directory_user = DirectoryUser.objects.get(pk=response.json()["id"])
    assert directory_user.user_id == outsider.pk and not directory_user.created_account
    membership = Membership.objects.get(org=sso_org, user=outsider)
    assert membership.owner_unconfirmed and membership.directory_managed  # no SSO tie (SPEC §7)
    assert outsider.password == User.objects.get(pk=outsider.pk).password  # untouched
    assert list(AuditEvent.objects.filter(org=sso_org, event__in=["member.added", "directory.user_created"],
                                          target_label=outsider.email).order_by("pk").values_list("event", flat=True)
                ) == ["member.added", "directory.user_created"]


def test_an_account_provisioned_under_another_username_is_409(scim):
    assert scim.post("Users", user_body("a-name", emails=[{"value": "same@acme.test", "type": "work"}])
                     ).status_code == 201
    response = scim.post("Users", user_body("b-name", emails=[{"value": "same@acme.test", "type": "work"}]))
    assert_scim_error(response, 409, "uniqueness")
    assert DirectoryUser.objects.filter(user__email="same@acme.test").count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_posts_of_one_username_with_new_emails(scim):
    """Every POST takes the one statement; the losers' unique violation rolls back their accounts."""
    def post(i):
        body = user_body("racer", emails=[{"value": f"racer{i}@acme.test", "type": "work"}])
        return ScimClient(scim.org, scim.token).post("Users", body).status_code

    statuses = run_concurrently(8, post)
    assert sorted(statuses) == [201] + [409] * 7, statuses
    directory_user = DirectoryUser.objects.get(org=scim.org, user_name="racer")
    assert list(User.objects.filter(email__startswith="racer").values_list("pk", flat=True)) == [
        directory_user.user_id]
    assert Membership.objects.filter(org=scim.org, user__email__startswith="racer").count() == 1
    assert AuditEvent.objects.filter(org=scim.org, target_label="racer").count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_posts_of_one_new_email_under_several_usernames(scim):
    """The first creates the account; the others wait on its INSERT, find it, and are 409
    (one directory user per account)."""
    def post(i):
        body = user_body(f"name{i}", emails=[{"value": "shared@acme.test", "type": "work"}])
        return ScimClient(scim.org, scim.token).post("Users", body).status_code

    statuses = run_concurrently(8, post)
    assert sorted(statuses) == [201] + [409] * 7, statuses
    assert User.objects.filter(email="shared@acme.test").count() == 1
    assert DirectoryUser.objects.filter(org=scim.org, user__email="shared@acme.test").count() == 1
    assert AuditEvent.objects.filter(org=scim.org, event="member.added", target_label="shared@acme.test").count() == 1


# group_members_add: a PATCH's or POST's members (PostgreSQL) -------------------------------


@pytest.fixture
def group_world(scim, other_scim, sso_org):
    """Five directory users (the last two deactivated: no membership), a group holding the
    first, and a directory user of another organization."""
    ids = [int(scim.post("Users", user_body(f"g{i}@acme.test")).json()["id"]) for i in range(5)]
    for pk in ids[3:]:
        assert scim.patch(f"Users/{pk}", {"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                                          "Operations": [{"op": "replace", "path": "active",
                                                          "value": False}]}).status_code == 200
    group_id = scim.post("Groups", {"displayName": "Engineering", "members": [{"value": str(ids[0])}]}).json()["id"]
    foreign = int(other_scim.post("Users", user_body("f@other.test")).json()["id"])
    return {"org": sso_org, "group": DirectoryGroup.objects.get(pk=group_id), "ids": ids, "foreign": foreign}


MEMBER_CASES = {
    "active users": lambda w: w["ids"][1:3],
    "deactivated users: the group only, no team": lambda w: w["ids"][3:],
    "members already": lambda w: w["ids"][:2],
    "another organization's user and unknown ids": lambda w: [w["ids"][1], w["foreign"], 2**62],
    "the same id twice": lambda w: [w["ids"][1], w["ids"][1]],
    "none": lambda w: [],
}


@pytest.mark.postgres
@pytest.mark.parametrize("case", MEMBER_CASES)
def test_group_members_add_writes_and_returns_what_the_orm_path_does(group_world, case):
    inputs = {"org": group_world["org"], "group": group_world["group"], "ids": MEMBER_CASES[case](group_world)}
    orm = run(services.group_members_add_orm, **inputs)
    assert run(fastpath.group_members_add, **inputs) == orm
    assert orm.returned == sorted(set(inputs["ids"]) & set(group_world["ids"]))


@pytest.mark.postgres
def test_adding_members_costs_the_same_statements_whatever_their_number(scim, group_world):
    url = f"Groups/{group_world['group'].pk}"
    body = {"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{"op": "add", "path": "members", "value": [{"value": str(pk)}
                                                                      for pk in group_world["ids"][1:]]}]}
    with CaptureQueriesContext(connection) as captured:
        assert scim.patch(url, body).status_code == 204
    # The token; the group's lock and lastModified; the organization's group rules (none
    # here: nothing more); the members' lookup and inserts; the audit event; its webhook
    # event (orgs.events: one INSERT, whatever the number of members).
    assert len(_statements(captured)) == 6, _statements(captured)
    event = OrgEvent.objects.select_related("audit").get(org=scim.org, type="directory.group_members_changed")
    assert event.audit.new["added_ids"] == sorted(str(pk) for pk in group_world["ids"][1:])


# locked_and_touched_group: the group a PATCH changes (both databases) --------------------------


def test_locked_and_touched_group_writes_and_returns_what_the_orm_path_does(group_world):
    inputs = {"org": group_world["org"], "group_id": group_world["group"].pk}
    orm = run(services.locked_and_touched_group_orm, **inputs)
    assert run(fastpath.locked_and_touched_group, **inputs) == orm
    assert list(orm.written) == [DirectoryGroup._meta.db_table]


@pytest.mark.parametrize("group_id", ["another organization's", "unknown"])
def test_locked_and_touched_group_refuses_what_the_orm_path_refuses(group_world, other_scim, group_id):
    if group_id == "unknown":
        group_id = 2**62
    else:
        group_id = int(other_scim.post("Groups", {"displayName": "Theirs"}).json()["id"])
    inputs = {"org": group_world["org"], "group_id": group_id}
    orm = run_raising(services.locked_and_touched_group_orm, **inputs)
    assert run_raising(fastpath.locked_and_touched_group, **inputs) == orm
    assert orm[0] is NotFound and orm[2] == {}


# directory_token_by_hash: every SCIM request's token -----------------------------------


@pytest.mark.parametrize("case", ["live", "revoked", "unknown"])
def test_directory_token_by_hash_returns_what_the_orm_path_does(scim, sso_org, admin_user, directory_token, case):
    from orgs.models import hash_secret

    if case == "revoked":
        services.directory_rotate_token(org=sso_org, actor=admin_user)  # the old token is revoked
    digest = hash_secret("unknown" if case == "unknown" else directory_token)

    def loaded(path):
        def tokens(digest):
            return [(t, t.org, t.org.directory, t.org.sso_connection) for t in path(digest)]
        return tokens

    orm = run(loaded(services.directory_token_by_hash_orm), digest=digest)
    fast = run(loaded(lambda digest: list(filter(None, [fastpath.directory_token_by_hash(digest)]))), digest=digest)
    assert fast == orm and fast.written == {}
    assert len(fast.statements) == 1 and len(fast.returned) == (0 if case in ("revoked", "unknown") else 1)
    if fast.returned:
        token = fastpath.directory_token_by_hash(digest)
        with CaptureQueriesContext(connection) as captured:  # everything came in the one query
            assert token.org.directory.enabled and token.org.sso_connection.role_attribute
        assert _statements(captured) == []


# The pre-create lookup: `userName eq "<name>"` ---------------------------------------


LOOKUPS = [
    'userName eq "Ada@Acme.test"', 'username EQ "ada@acme.test"', 'USERNAME eq "ADA@ACME.TEST"',
    'urn:ietf:params:scim:schemas:core:2.0:User:userName eq "ada@acme.test"', 'userName eq "nobody@acme.test"',
    'userName eq "ünïcode@acme.test"', 'userName eq "other@other.test"',
]
NOT_LOOKUPS = [
    'userName ne "ada@acme.test"', 'not (userName eq "ada@acme.test")', 'userName eq "a" or userName eq "b"',
    'userName eq "ada@acme.test" and active eq true', 'externalId eq "ada"', 'userName sw "ada"',
    'emails[value eq "ada@acme.test"]', 'userName pr', 'userName eq "quote\\"d@acme.test"',
]


@pytest.mark.parametrize("text", LOOKUPS)
def test_a_username_lookup_is_what_the_filter_and_the_page_make_of_it(scim, sso_org, other_scim, text):
    from scim.filters import user_filter, user_name_equals
    from scim.views import _page

    for name in ("ada@acme.test", "ünïcode@acme.test", "zed@acme.test"):
        assert scim.post("Users", user_body(name)).status_code == 201
    assert other_scim.post("Users", user_body("other@other.test")).status_code == 201
    name = user_name_equals(text)
    assert name is not None
    orm = run(lambda text: _page(DirectoryUser.objects.filter(org=sso_org).filter(user_filter(text)), 1, 100),
              text=text)
    fast = run(lambda name: (rows := fastpath.directory_user_named(sso_org.pk, name), len(rows)), name=name)
    assert fast == orm and fast.written == {} and len(fast.statements) == 1
    response = scim.get("Users", filter=text)
    assert response.status_code == 200
    assert response.json()["totalResults"] == len(fast.returned[0]) == (0 if "nobody" in text or "other" in text else 1)


@pytest.mark.parametrize("text", NOT_LOOKUPS)
def test_every_other_filter_is_left_to_the_filter(text):
    from scim.errors import ScimError
    from scim.filters import user_name_equals

    try:
        assert user_name_equals(text) is None
    except ScimError:
        pass  # what the filter refuses, it refuses the same way
