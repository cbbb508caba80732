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

from . import selectors
from .models import SSOCertificate, SSOConnection, SSOIdentity, UsedMessageID, VerifiedDomain

if TYPE_CHECKING:
    from .services import LoginResult


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
    i, u, m, d = SSOIdentity, User, Membership, VerifiedDomain
    return (
        f"SELECT {sql.columns(i, 'i')}, {sql.columns(u, 'u')}, {sql.columns(m, 'm')}, "
        # Does the organization verify the account's domain (E14)? A LIKE, so that both
        # databases run it; it may only ever say yes too often, which costs the ORM path.
        f"EXISTS (SELECT 1 FROM {sql.table(d)} d WHERE {sql.column(d, 'org', 'd')} = {sql.column(i, 'org', 'i')} "
        f"AND {sql.column(d, 'verified_at', 'd')} IS NOT NULL "
        f"AND {sql.column(u, 'email', 'u')} LIKE ('%%@' || {sql.column(d, 'domain', 'd')})) "
        f"FROM {sql.table(i)} i JOIN {sql.table(u)} u ON {sql.column(u, 'pk', 'u')} = {sql.column(i, 'user', 'i')} "
        f"LEFT JOIN {sql.table(m)} m ON {sql.column(m, 'org', 'm')} = {sql.column(i, 'org', 'i')} "
        f"AND {sql.column(m, 'user', 'm')} = {sql.column(i, 'user', 'i')} "
        f"WHERE {sql.column(i, 'org', 'i')} = %s AND {sql.column(i, 'name_id', 'i')} = %s"
    )


def sso_sign_in(*, org: Organization, connection: SSOConnection, name_id: str, profile: dict,
                name_id_format: str = "") -> "LoginResult | None":
    """The common sign-in, an account this organization's IdP linked to `name_id` before,
    whose membership is in place: one query reads the link, the account and the
    membership; one statement (on PostgreSQL; three in a transaction elsewhere) writes
    the link's sign-in times, the account's last_login (so login() does not write it
    again) and the audit event. None, for sso_sign_in_orm to decide, for every other
    sign-in: no such link; an account to refuse (deactivated, staff), to confirm by
    email (claimed, address unverified) or to claim for its address (unclaimed or
    unverified, in a domain the organization verified); names to fill in; a membership
    to make (none, or one the SSO enable removes)."""
    from . import services  # its caller; it imports this module

    with db.cursor() as cursor:
        cursor.execute(_returning_sql(db.vendor), [org.pk, name_id])
        row = cursor.fetchone()
    if row is None:
        return None
    identity = sql.instance(SSOIdentity, row)
    user = sql.instance(User, row, sql.width(SSOIdentity))
    membership = sql.instance(Membership, row, sql.width(SSOIdentity) + sql.width(User))
    domain_verified = bool(row[-1])
    proven = user.claimed and user.email_verified_at is not None
    if (not user.is_active or user.is_staff or user.is_superuser
            or (user.claimed and user.email_verified_at is None)
            or (domain_verified and not proven)
            or any(profile[field] and not getattr(user, field) for field in ("first_name", "last_name"))
            or membership is None or selectors.awaits_sso_removal(membership, connection)):
        return None
    now = timezone.now()
    # As sso_sign_in_orm's _link_identity sets them.
    identity.name_id_format = name_id_format or identity.name_id_format
    identity.first_sso_login_at = identity.first_sso_login_at or now
    identity.last_sso_login_at = now
    user.last_login = now
    sql.write_together([
        sql.update_sql(identity, ["name_id_format", "first_sso_login_at", "last_sso_login_at", "updated_at"]),
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
