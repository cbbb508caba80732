"""The SAML ACS's hand-written SQL: a returning sign-in, the organization, connection
and certificates every SAML request reads, and the record of a message ID accepted,
where the ORM's cost per statement was measured (README, Benchmarks; bench/acs.py).

Each function here has the signature of the ORM function that is its specification
(`sso.services.sso_sign_in_orm`, `sso.selectors.org_and_connection_orm`,
`sso.state.message_id_record_orm`), writes the
rows that writes and returns what that returns — tests/sso/test_fastpath.py runs both
on the same input and compares, on SQLite and PostgreSQL — or returns None where it
does not apply, and the caller then takes the ORM path. Built from config/sql.py only:
no table or column name is written here by hand.
"""
import functools
from typing import TYPE_CHECKING

from django.db import connection as db
from django.utils import timezone

from accounts.models import User
from accounts.services import last_login_sql
from config import sql
from orgs.audit import audit_row
from orgs.models import Membership, Organization
from teams.models import TeamMember

from . import selectors
from .models import GroupRule, SSOCertificate, SSOConnection, SSOIdentity, UsedMessageID, VerifiedDomain

if TYPE_CHECKING:
    from .services import IdPWord, LoginResult


@functools.cache
def _org_and_connection_sql(vendor: str) -> str:
    o, c, k = Organization, SSOConnection, SSOCertificate
    return (
        f"SELECT {sql.columns(o, 'o')}, {sql.columns(c, 'c')}, {sql.columns(k, 'k')} FROM {sql.table(o)} o "
        f"LEFT JOIN {sql.table(c)} c ON {sql.column(c, 'org', 'c')} = {sql.column(o, 'pk', 'o')} "
        f"LEFT JOIN {sql.table(k)} k ON {sql.column(k, 'connection', 'k')} = {sql.column(c, 'pk', 'c')} "
        f"WHERE {sql.column(o, 'slug', 'o')} = %s "
        f"ORDER BY {sql.column(k, 'created_at', 'k')}, {sql.column(k, 'pk', 'k')}"
    )


def org_and_connection(slug: str) -> tuple[Organization | None, SSOConnection | None]:
    """org_and_connection_orm in one query instead of three."""
    with db.cursor() as cursor:
        cursor.execute(_org_and_connection_sql(db.vendor), [slug])
        rows = cursor.fetchall()
    if not rows:
        return None, None
    org = sql.instance(Organization, rows[0])
    connection = sql.instance(SSOConnection, rows[0], sql.width(Organization))
    if connection is None:
        return org, None
    connection.org = org
    start = sql.width(Organization) + sql.width(SSOConnection)
    certificates = [certificate for certificate in (sql.instance(SSOCertificate, row, start) for row in rows)
                    if certificate is not None]
    for certificate in certificates:
        certificate.connection = connection
    # What Prefetch("certificates", to_attr="loaded_certificates") leaves behind.
    connection.loaded_certificates = certificates
    return org, connection


@functools.cache
def _returning_sql(vendor: str) -> str:
    i, u, m, d, r, t = SSOIdentity, User, Membership, VerifiedDomain, GroupRule, TeamMember
    return (
        f"SELECT {sql.columns(i, 'i')}, {sql.columns(u, 'u')}, {sql.columns(m, 'm')}, "
        # Does the organization verify the account's domain (E14)? A LIKE, so that both
        # databases run it; it may only ever say yes too often, which costs the ORM path.
        f"EXISTS (SELECT 1 FROM {sql.table(d)} d WHERE {sql.column(d, 'org', 'd')} = {sql.column(i, 'org', 'i')} "
        f"AND {sql.column(d, 'verified_at', 'd')} IS NOT NULL "
        f"AND {sql.column(u, 'email', 'u')} LIKE ('%%@' || {sql.column(d, 'domain', 'd')})), "
        # The organization's group rules, one row each (one row without any, as most have),
        # with whether the member is in the rule's team and whether a rule put them there.
        f"{sql.columns(r, 'r')}, {sql.column(t, 'by_rule', 't')} "
        f"FROM {sql.table(i)} i JOIN {sql.table(u)} u ON {sql.column(u, 'pk', 'u')} = {sql.column(i, 'user', 'i')} "
        f"LEFT JOIN {sql.table(m)} m ON {sql.column(m, 'org', 'm')} = {sql.column(i, 'org', 'i')} "
        f"AND {sql.column(m, 'user', 'm')} = {sql.column(i, 'user', 'i')} "
        f"LEFT JOIN {sql.table(r)} r ON {sql.column(r, 'org', 'r')} = {sql.column(i, 'org', 'i')} "
        f"LEFT JOIN {sql.table(t)} t ON {sql.column(t, 'team', 't')} = {sql.column(r, 'team', 'r')} "
        f"AND {sql.column(t, 'membership', 't')} = {sql.column(m, 'pk', 'm')} "
        f"WHERE {sql.column(i, 'org', 'i')} = %s AND {sql.column(i, 'name_id', 'i')} = %s "
        f"ORDER BY {sql.column(r, 'pk', 'r')}"
    )


def sso_sign_in(*, org: Organization, connection: SSOConnection, name_id: str, profile: dict,
                name_id_format: str = "", word: "IdPWord | None" = None) -> "LoginResult | None":
    """The common sign-in, an account this organization's IdP linked to `name_id` before,
    whose membership is in place: one query reads the link, the account and the
    membership; one statement (on PostgreSQL; three in a transaction elsewhere) writes
    the link's sign-in times, the account's last_login (so login() does not write it
    again) and the audit event. None, for sso_sign_in_orm to decide, for every other
    sign-in: no such link; an account to refuse (deactivated, staff), to confirm by
    email (claimed, address unverified) or to claim for its address (unclaimed or
    unverified, in a domain the organization verified); names that changed or a new
    email address (issue 12: the profile follows the IdP); a membership to make (none,
    or one the SSO enable removes), or that the IdP's word (`word`: DS4's role, the
    group rules, read with the link) changes. What the IdP sent rides in the link's
    UPDATE."""
    from . import services  # its caller; it imports this module

    with db.cursor() as cursor:
        cursor.execute(_returning_sql(db.vendor), [org.pk, name_id])
        rows = cursor.fetchall()
    if not rows:
        return None
    row = rows[0]
    identity = sql.instance(SSOIdentity, row)
    user = sql.instance(User, row, sql.width(SSOIdentity))
    membership = sql.instance(Membership, row, sql.width(SSOIdentity) + sql.width(User))
    start = sql.width(SSOIdentity) + sql.width(User) + sql.width(Membership)
    domain_verified = bool(row[start])
    rules, held = [], {}
    for row in rows:
        if row[start + 1] is None:  # no rule: the LEFT JOIN's one row
            continue
        rules.append(sql.instance(GroupRule, row, start + 1))
        if row[-1] is not None:
            held[rules[-1].team_id] = bool(row[-1])
    proven = user.claimed and user.email_verified_at is not None
    if (not user.is_active or user.is_staff or user.is_superuser
            or (user.claimed and user.email_verified_at is None)
            or (domain_verified and not proven)
            or services.names_to_follow(user, profile)
            or membership is None or selectors.awaits_sso_removal(membership, connection)
            or (word is not None and (services.email_news(connection, identity, user, profile, word)
                                      or services.word_changes(membership, word, rules, held)))):
        return None
    now = timezone.now()
    # As sso_sign_in_orm's _link_identity sets them.
    identity.name_id_format = name_id_format or identity.name_id_format
    identity.first_sso_login_at = identity.first_sso_login_at or now
    identity.last_sso_login_at = now
    received = []
    if word is not None:
        identity.idp_attributes, identity.idp_groups = word.attributes, services.kept_groups(word)
        received = ["idp_attributes", "idp_groups"]
    user.last_login = now
    sql.write_together([
        sql.update_sql(identity, ["name_id_format", "first_sso_login_at", "last_sso_login_at", *received,
                                  "updated_at"]),
        last_login_sql(user),
        sql.insert_sql(audit_row(**services.login_event(org=org, user=user, membership=membership, name_id=name_id))),
    ])
    return services.LoginResult(user=user, status=services.LoginStatus.SIGNED_IN, email=user.email)


def message_id_record(*, org: Organization, id_hash: str, expires_at) -> bool:
    """state.message_id_record_orm in one INSERT … ON CONFLICT DO NOTHING, which returns
    the row only the first time: of concurrent replays in any processes exactly one
    passes, and a replay leaves no failed statement behind."""
    statement, params = sql.insert_sql(UsedMessageID(org=org, id_hash=id_hash, expires_at=expires_at),
                                       on_conflict_do_nothing=True)
    with db.cursor() as cursor:
        cursor.execute(f"{statement} RETURNING {sql.column(UsedMessageID, 'pk')}", params)
        return cursor.fetchone() is not None
