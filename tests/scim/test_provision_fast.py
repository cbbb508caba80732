"""POST /Users for a new email on PostgreSQL: one statement (scim.services._provision_new_account)
that must write exactly what the ORM path writes — the account, the membership, the directory
user and the same audit events (the audit log is append-only evidence) — in at most 3 queries
per request, and roll everything back on a conflict."""
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import User
from orgs.models import AuditEvent, Membership
from scim import services
from scim.models import DirectoryUser

from .conftest import ScimClient, assert_scim_error, set_role_management, user_body
from .test_races import run_concurrently

pytestmark = pytest.mark.django_db

TRANSACTION_CONTROL = ("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT", "BEGIN", "COMMIT")


@pytest.fixture
def postgres():
    if connection.vendor != "postgresql":
        pytest.skip("the one-statement path is PostgreSQL's; SQLite takes the ORM path")


@pytest.fixture
def orm_path(monkeypatch):
    """Sends new emails down the ORM path, as SQLite and existing accounts go."""
    monkeypatch.setattr(services, "_provision_new_account", lambda *args, **kwargs: None)


def post_and_capture(scim, body):
    """The response, the non-transaction-control queries, and what the POST wrote."""
    last_audit = AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    with CaptureQueriesContext(connection) as captured:
        response = scim.post("Users", body)
    queries = [q["sql"] for q in captured.captured_queries if not q["sql"].upper().startswith(TRANSACTION_CONTROL)]
    audit = list(AuditEvent.objects.filter(pk__gt=last_audit).order_by("pk").values())
    return response, queries, audit


def written(scim, body, email):
    """What a 201 POST wrote, with the values that differ from one user to the next
    (ids, timestamps, the email, the random unusable password) replaced by their kind."""
    response, queries, audit = post_and_capture(scim, body)
    assert response.status_code == 201, response.content
    directory_user = DirectoryUser.objects.get(pk=response.json()["id"])
    account = User.objects.get(pk=directory_user.user_id)
    assert account.email == email
    assert not account.has_usable_password()  # the body's password is ignored
    membership = Membership.objects.filter(org=scim.org, user=account).first()
    assert directory_user.membership_id == (membership.pk if membership else None)
    targets = {("membership", str(membership.pk if membership else None)): "<membership>",
               ("directoryuser", str(directory_user.pk)): "<directory user>"}

    def scrub(row, *drop):
        return {key: value for key, value in row.items() if key not in {"id", *drop}}

    events = []
    for row in audit:
        assert row["created_at"] is not None
        events.append({**scrub(row, "created_at"), "target_id": targets[row["target_type"], row["target_id"]],
                       "target_label": row["target_label"].replace(email, "<email>")})
    resource = response.json()
    resource["id"], resource["meta"] = "<id>", sorted(resource["meta"])
    return {
        "account": {**scrub(User.objects.filter(pk=account.pk).values().get(), "email", "password", "date_joined",
                            "email_verified_at"),
                    "email_verified": account.email_verified_at is not None},
        "membership": membership and scrub(Membership.objects.filter(pk=membership.pk).values().get(),
                                           "user_id", "created_at", "updated_at"),
        "directory_user": scrub(DirectoryUser.objects.filter(pk=directory_user.pk).values().get(),
                                "user_id", "membership_id", "user_name", "email", "emails", "raw", "created_at",
                                "updated_at"),
        "audit": events,
        "response": str(resource).replace(email, "<email>"),
        "queries": len(queries),
    }


def body_for(email, **extra):
    return user_body(email, password="hunter2-secret", **extra)


@pytest.mark.usefixtures("postgres")
@pytest.mark.parametrize("extra, managed_roles", [
    ({}, False),
    ({"planetscale_role": "admin"}, True),  # DS4: the role from the managed attribute
    ({"planetscale_role": "admin"}, False),  # kept on the directory user, not applied
    ({"active": False}, False),  # an account, no membership
    ("verified domain", False),  # E14: claimed and verified in a domain the organization verified
])
def test_the_statement_writes_what_the_orm_path_writes(scim, sso_org, admin_user, monkeypatch, extra, managed_roles):
    if managed_roles:
        set_role_management(sso_org)
    if extra == "verified domain":
        from django.utils import timezone

        from sso.models import VerifiedDomain

        VerifiedDomain.objects.create(org=sso_org, domain="acme.test", txt_token="t", verified_at=timezone.now())
        extra = {}
    fast = written(scim, body_for("fast@acme.test", **extra), "fast@acme.test")
    monkeypatch.setattr(services, "_provision_new_account", lambda *args, **kwargs: None)
    orm = written(scim, body_for("orm@acme.test", **extra), "orm@acme.test")
    assert fast["queries"] <= 3 < orm["queries"]
    fast.pop("queries"), orm.pop("queries")
    assert fast == orm
    assert fast["account"]["claimed"] is fast["account"]["email_verified"]
    expected_events = ["directory.user_created"] if extra.get("active") is False else [
        "member.added", "directory.user_created"]
    assert [event["event"] for event in fast["audit"]] == expected_events


@pytest.mark.usefixtures("postgres")
def test_audit_events_name_the_directory_and_the_rows(scim, sso_org):
    _, _, audit = post_and_capture(scim, body_for("jo@acme.test", planetscale_role="admin"))
    directory_user = DirectoryUser.objects.get(org=sso_org, user_name="jo@acme.test")
    assert [(row["event"], row["actor_id"], row["actor_label"], row["target_type"], row["target_id"],
             row["target_label"], row["old"], row["new"], row["ip_address"], row["org_id"]) for row in audit] == [
        ("member.added", None, "directory", "membership", str(directory_user.membership_id), "jo@acme.test", None,
         {"role": "member", "database_admin": False, "reason": "directory_provisioned"}, "127.0.0.1", sso_org.pk),
        ("directory.user_created", None, "directory", "directoryuser", str(directory_user.pk), "jo@acme.test", None,
         {"active": True, "role": "admin"}, "127.0.0.1", sso_org.pk),
    ]
    membership = Membership.objects.get(pk=directory_user.membership_id)
    assert membership.directory_managed and not membership.owner_unconfirmed and directory_user.created_account


@pytest.mark.usefixtures("postgres")
def test_a_new_email_costs_the_token_lookup_and_one_statement(scim):
    response, queries, _ = post_and_capture(scim, body_for("one@acme.test"))
    assert response.status_code == 201
    assert len(queries) == 2, queries
    # The organization's verified domains decide claimed or not (E14), read inside the statement.
    assert queries[1].startswith("WITH verified AS (SELECT EXISTS") and "account AS (INSERT INTO" in queries[1]


@pytest.mark.usefixtures("postgres")
def test_a_taken_username_rolls_back_the_new_account(scim, sso_org):
    assert scim.post("Users", user_body("jdoe", emails=[{"value": "first@acme.test", "type": "work"}])
                     ).status_code == 201
    counts = (User.objects.count(), Membership.objects.count(), AuditEvent.objects.count())
    response, queries, audit = post_and_capture(
        scim, user_body("JDoe", emails=[{"value": "second@acme.test", "type": "work"}]))
    assert_scim_error(response, 409, "uniqueness")
    assert "jdoe" in response.json()["detail"]
    assert len(queries) == 2  # no lookup after the failed statement: its constraint names the conflict
    assert (User.objects.count(), Membership.objects.count(), AuditEvent.objects.count()) == counts
    assert audit == []
    assert not User.objects.filter(email="second@acme.test").exists()
    # The transaction is usable again (the service's savepoint was rolled back).
    assert scim.post("Users", user_body("third@acme.test")).status_code == 201


def test_an_existing_account_takes_the_orm_path(scim, sso_org, outsider):
    response, _, audit = post_and_capture(scim, body_for(outsider.email))
    assert response.status_code == 201, response.content
    directory_user = DirectoryUser.objects.get(pk=response.json()["id"])
    assert directory_user.user_id == outsider.pk and not directory_user.created_account
    membership = Membership.objects.get(org=sso_org, user=outsider)
    assert membership.owner_unconfirmed and membership.directory_managed  # no SSO tie (SPEC §7)
    assert outsider.password == User.objects.get(pk=outsider.pk).password  # untouched
    assert [row["event"] for row in audit] == ["member.added", "directory.user_created"]


def test_an_account_provisioned_under_another_username_is_409(scim):
    assert scim.post("Users", user_body("a-name", emails=[{"value": "same@acme.test", "type": "work"}])
                     ).status_code == 201
    response = scim.post("Users", user_body("b-name", emails=[{"value": "same@acme.test", "type": "work"}]))
    assert_scim_error(response, 409, "uniqueness")
    assert DirectoryUser.objects.filter(user__email="same@acme.test").count() == 1


def test_the_orm_path_still_creates_new_accounts(scim, sso_org, orm_path):
    response = scim.post("Users", body_for("slow@acme.test"))
    assert response.status_code == 201, response.content
    assert DirectoryUser.objects.get(pk=response.json()["id"]).created_account


@pytest.mark.postgres
@pytest.mark.usefixtures("postgres")
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
@pytest.mark.usefixtures("postgres")
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
