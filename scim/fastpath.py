"""Directory Sync's hand-written SQL, for the hot paths where the ORM's cost per
statement was measured (README, Benchmarks): provisioning a new account, adding
members to a group, locking a group for a PATCH; and the token every request authenticates
with, by the ORM's own SQL compiled once.

Each function here has the signature of the ORM function in scim/services.py that is
its specification (`scim_user_create_orm`, `group_members_add_orm`,
`locked_and_touched_group_orm`, `directory_token_by_hash_orm`), writes the rows that writes and returns what that
returns — tests/scim/test_fastpath.py runs both on the same input and compares — or
returns None where it does not apply, and the service then takes the ORM path. Built
from config/sql.py only: no table or column name is written here by hand.
"""
from django.db import IntegrityError, connection
from django.utils import timezone

from accounts.models import User, normalize_email
from config import sql
from config.errors import NotFound
from orgs import events
from orgs.audit import Events as OrgEvents
from orgs.audit import audit_row
from orgs.models import AuditEvent, Membership
from sso.models import VerifiedDomain
from teams.models import TeamMember

from . import resources, services
from .models import Directory, DirectoryGroup, DirectoryGroupMember, DirectoryUser

Role = Membership.Role
# No token has this hash: where it sits among the compiled query's parameters, the caller's goes.
_NO_HASH = "not a sha-256: the place of the token's hash"


def directory_user_named_orm(org_id, user_name: str):
    """The directory user of this organization with this userName (at most one: it is
    unique there), as a queryset: what the views' page of `userName eq "<name>"` holds."""
    return DirectoryUser.objects.filter(org_id=org_id, user_name=user_name).order_by("pk")


_NO_ORG = -7_340_033
_NO_NAME = "not a userName: the place of the one looked up"


def directory_user_named(org_id, user_name: str) -> list[DirectoryUser]:
    """list(directory_user_named_orm(...)) by the ORM's own SQL compiled once: the views
    answer Okta's and Entra's pre-create lookup with it (filters.user_name_equals)."""
    return sql.compiled("directory_user_named", directory_user_named_orm, _NO_ORG, _NO_NAME).run(org_id, user_name)


def directory_token_by_hash(digest: str):
    """services.directory_token_by_hash_orm's token, or None: the ORM's own SQL compiled once
    (config.sql.compiled), as every SCIM request authenticates (about 40 % of a provisioning
    request's CPU went into building and compiling that query with its four joins)."""
    found = sql.compiled("directory_token_by_hash", services.directory_token_by_hash_orm, _NO_HASH).run(digest)
    return found[0] if found else None


def scim_user_create(*, org, directory: Directory, fields: resources.UserFields) -> DirectoryUser | None:
    """PostgreSQL: POST /Users for an email no account has, in ONE statement of
    data-modifying CTEs: the account (no usable password; the body's is ignored), its
    directory-managed membership and `member.added`, the directory user and
    `directory.user_created`, and the two events' webhook outbox rows (orgs.events). With the token lookup, a POST costs two queries.

    Each INSERT selects from the RETURNING of the one before, so when an account has
    this email its `ON CONFLICT DO NOTHING` returns no row, nothing is written, and this
    returns None: the ORM path attaches the existing account (owner_unconfirmed, the
    SSO-removal reset, role changes). None too without an email or with a role
    membership_add refuses. A unique violation (the userName is taken, by a concurrent
    POST too) fails the whole statement; the caller's transaction rolls back and the
    POST answers 409."""
    if not fields.email:
        return None
    role = services._managed_role(directory, fields) or Role.MEMBER
    if role not in Role.values:
        return None
    now = timezone.now()
    # As UserManager.create_user(email, None, …) builds it.
    account = User(email=normalize_email(fields.email), first_name=fields.given_name[:150],
                   last_name=fields.family_name[:150])
    account.set_unusable_password()
    directory_user = services._new_directory_user(org, fields, account, created_account=True)
    # E14, as new_account_state decides it: claimed, its address verified, only in a domain
    # this organization verified; read by the statement itself (no query of its own).
    verified = (
        f"verified AS (SELECT EXISTS (SELECT 1 FROM {sql.table(VerifiedDomain)} "
        f"WHERE {sql.column(VerifiedDomain, 'org')} = %s AND {sql.column(VerifiedDomain, 'domain')} = %s "
        f"AND {sql.column(VerifiedDomain, 'verified_at')} IS NOT NULL) AS yes)",
        [org.pk, account.email.rpartition("@")[2]])
    account_id, membership_id, directory_user_id = (
        sql.column(User, "pk", "account"), sql.column(Membership, "pk", "membership"),
        sql.column(DirectoryUser, "pk", "directory_user"))
    # Each CTE: (name, INSERT statement, its parameters).
    ctes = [("account", *sql.insert_sql(
        account, on_conflict_do_nothing=True, select_from=["verified"], returning=True, claimed="verified.yes",
        email_verified_at=("CASE WHEN verified.yes THEN %s END", [sql.param(User, "email_verified_at", now)])))]
    membership = None
    if fields.active:
        # As _activate → membership_add make it for an account the directory created:
        # its owner agreed (DS1), the role is the managed one or member, audited.
        membership = Membership(org=org, role=role, is_database_admin=False, directory_managed=True,
                                owner_unconfirmed=False)
        member_added = audit_row(org=org, actor=None, actor_label=services.DIRECTORY, event=OrgEvents.MEMBER_ADDED,
                                 target=membership, target_label=account.email,
                                 new={"role": role, "database_admin": False, "reason": "directory_provisioned"})
        ctes += [
            ("membership", *sql.insert_sql(membership, select_from=["account"], returning=True, user=account_id)),
            ("member_added", *sql.insert_sql(member_added, select_from=["membership"], returning=True,
                                              target_id=f"{membership_id}::text")),
            # Its webhook event (orgs.events), as audit_record writes it.
            ("member_added_event", *sql.insert_sql(events.event_row(member_added), select_from=["member_added"],
                                                    returning=True, audit=sql.column(AuditEvent, "pk", "member_added"))),
            ("directory_user", *sql.insert_sql(directory_user, select_from=["account", "membership"], returning=True,
                                                user=account_id, membership=membership_id)),
        ]
    else:
        ctes.append(("directory_user", *sql.insert_sql(directory_user, select_from=["account"], returning=True,
                                                        user=account_id)))
    user_created = audit_row(org=org, actor=None, actor_label=services.DIRECTORY,
                             event=services.DirectoryEvents.USER_CREATED, target=directory_user,
                             target_label=fields.user_name, new={"active": fields.active, "role": fields.role or None})
    # Reading member_added's rows makes their INSERTs come first, so the two audit events
    # and their webhook events keep the ORM path's order (ids) instead of PostgreSQL's
    # unspecified CTE order.
    ctes.append(("user_created", *sql.insert_sql(
        user_created, select_from=["directory_user", "member_added_event"] if membership else ["directory_user"],
        returning=True, target_id=f"{directory_user_id}::text")))
    ctes.append(("user_created_event", *sql.insert_sql(events.event_row(user_created), select_from=["user_created"],
                                                        audit=sql.column(AuditEvent, "pk", "user_created"))))
    read = [(User, "account")] + ([(Membership, "membership")] if membership else []) + [
        (DirectoryUser, "directory_user")]
    statement = (
        "WITH " + verified[0] + ",\n" + ",\n".join(f"{name} AS ({insert})" for name, insert, _ in ctes)
        + f"\nSELECT {', '.join(sql.columns(model, name) for model, name in read)}"
        + f" FROM {', '.join(name for _, name in read)}"
    )
    try:
        with connection.cursor() as cursor:
            cursor.execute(statement, verified[1] + [param for _, _, params in ctes for param in params])
            row = cursor.fetchone()
    except IntegrityError as exc:
        # No query may follow in this transaction: the violated constraint names the conflict.
        # (The account is new, so scim_user_org_user_unique and the membership's cannot fail.)
        if _violated_constraint(exc) == "scim_user_org_username_unique":
            raise services._user_name_conflict(fields.user_name) from None
        raise
    if row is None:
        return None
    events.wake(org.pk)
    account = sql.instance(User, row)
    directory_user = sql.instance(DirectoryUser, row, sql.width(User) + (sql.width(Membership) if membership else 0))
    directory_user.org, directory_user.user = org, account
    if membership is not None:
        directory_user.membership = sql.instance(Membership, row, sql.width(User))
        directory_user.membership.org, directory_user.membership.user = org, account
    return directory_user


def _violated_constraint(exc: IntegrityError) -> str:
    diag = getattr(exc.__cause__, "diag", None)  # psycopg's error details
    return getattr(diag, "constraint_name", None) or ""


def group_members_add(org, group: DirectoryGroup, ids) -> set[int]:
    """PostgreSQL: group_members_add_orm in one statement, however many ids: they are
    resolved once, by primary key and then kept only if they are the organization's,
    and feed both INSERT … ON CONFLICT DO NOTHING as data-modifying CTEs."""
    ids = list(ids)
    if not ids:
        return set()
    pk, org_id, membership = (sql.column(DirectoryUser, name) for name in ("pk", "org", "membership"))
    link = DirectoryGroupMember(org=org, group=group)
    team_member = TeamMember(org=org, team_id=group.team_id)
    linked = sql.insert_sql(link, select_from=["found"], on_conflict_do_nothing=True, directory_user=f"found.{pk}")
    teamed = sql.insert_sql(team_member, select_from=["found"], where=f"found.{membership} IS NOT NULL",
                            on_conflict_do_nothing=True, membership=f"found.{membership}")
    with connection.cursor() as cursor:
        # `named` is looked up by primary key alone, behind a MATERIALIZED fence: with
        # `org_id = …` beside it the planner may read every row of the organization
        # through an org index (as it did on freshly loaded, unanalyzed tables).
        cursor.execute(
            f"WITH named AS MATERIALIZED ("
            f" SELECT {pk}, {org_id}, {membership} FROM {sql.table(DirectoryUser)}"
            f" WHERE {sql.any_of(DirectoryUser, 'pk')}"
            f"), found AS (SELECT {pk}, {membership} FROM named WHERE {org_id} = %s"
            f"), linked AS ({linked[0]}), teamed AS ({teamed[0]}) SELECT {pk} FROM found",
            [ids, org.pk, *linked[1], *teamed[1]],
        )
        return {row[0] for row in cursor.fetchall()}


def locked_and_touched_group(org, group_id) -> DirectoryGroup:
    """Lock the group row and set its lastModified in one statement (UPDATE … RETURNING,
    PostgreSQL and SQLite ≥ 3.35) instead of a SELECT … FOR UPDATE and an UPDATE: a
    PATCH of members then costs no extra round trip."""
    updated_at = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {sql.table(DirectoryGroup)} SET {sql.column(DirectoryGroup, 'updated_at')} = %s "
            f"WHERE {sql.column(DirectoryGroup, 'org')} = %s AND {sql.column(DirectoryGroup, 'pk')} = %s "
            f"RETURNING {sql.columns(DirectoryGroup)}",
            [sql.param(DirectoryGroup, "updated_at", updated_at), org.pk, group_id],
        )
        row = cursor.fetchone()
    if row is None:
        raise NotFound("Group not found.")
    return sql.instance(DirectoryGroup, row)
