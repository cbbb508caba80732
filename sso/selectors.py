"""Org-scoped reads of the sso app."""
from datetime import timedelta

from django.db.models import Count, Exists, F, OuterRef, Prefetch, Q, QuerySet

from orgs.models import DatabasePassword, Invitation, Membership, Organization, ServiceToken

from . import fastpath
from .models import SESSION_LIFETIME_DEFAULT, GroupRule, SSOConnection, SSOIdentity, SSORemoval, VerifiedDomain


def org_and_connection(slug: str) -> tuple[Organization | None, SSOConnection | None]:
    """The organization with this slug and its SSO connection, the connection's
    certificates already loaded (`connection.loaded_certificates`, which
    sso.services.connection_certificates reads), as every SAML login and ACS request
    needs all three: in one query (sso.fastpath.org_and_connection)."""
    return fastpath.org_and_connection(slug)


def org_and_connection_orm(slug: str) -> tuple[Organization | None, SSOConnection | None]:
    """org_and_connection through the ORM: its specification."""
    org = Organization.objects.filter(slug=slug).first()
    if org is None:
        return None, None
    connection = (SSOConnection.objects.filter(org=org)
                  .prefetch_related(Prefetch("certificates", to_attr="loaded_certificates")).first())
    if connection is not None:
        connection.org = org
    return org, connection


def sso_connection_of(org: Organization, *, with_certificates: bool = False) -> SSOConnection | None:
    """The organization's SSO connection; `with_certificates` loads its certificates in the
    same call (the settings page and the API list them)."""
    connections = SSOConnection.objects.filter(org=org)
    if with_certificates:
        connections = connections.prefetch_related("certificates")
    return connections.first()


def sso_connection_for_slug(slug: str) -> SSOConnection | None:
    """The SSO connection of the organization with this slug, with the organization; None
    when there is no such organization or it has none."""
    return SSOConnection.objects.select_related("org").filter(org__slug=slug).first()


def sso_is_enabled(org: Organization) -> bool:
    """Does this organization enforce single sign-on right now?"""
    if org is None:
        return False
    return SSOConnection.objects.filter(org=org, state=SSOConnection.State.ENABLED).exists()


def removed_by_enable(enabled_at) -> Q:
    """E1's rule over Membership, for an enable at `enabled_at` (a value, or an F to the
    organization's connection): a membership older than the enable that was non-admin
    then — non-admin now and its role unchanged since (an administrator demoted after
    the enable stays, E2). Memberships made later (SSO sign-ins) are new rows and stay,
    so enabling writes nothing per member. awaits_sso_removal is the same rule in Python."""
    return (~Q(role=Membership.Role.ADMIN) & Q(created_at__lt=enabled_at)
            & (Q(role_changed_at__isnull=True) | Q(role_changed_at__lt=enabled_at)))


def kept_by_enable(enabled_at) -> Q:
    """E2's administrators as a query over Membership, for an enable at `enabled_at` (a
    value, or an F to the organization's connection): admin then and now, with a
    membership its owner agreed to. Until their first IdP sign-in they keep their password;
    an administrator made since does not. sso.sessions.password_still_allowed is the same
    rule in Python, for the access check that may run no query."""
    return (Q(role=Membership.Role.ADMIN, owner_unconfirmed=False, created_at__lt=enabled_at)
            & (Q(role_changed_at__isnull=True) | Q(role_changed_at__lt=enabled_at)))


def members_awaiting_removal(org: Organization, enabled_at) -> QuerySet[Membership]:
    """Who the enable job still has to remove."""
    return Membership.objects.filter(org=org).filter(removed_by_enable(enabled_at))


def enforcement_summary(*, org: Organization, connection: SSOConnection | None = None) -> dict:
    """Settings › Authentication's account of enforcement (E2, E12, E13): the memberships
    that stay once the enable job is done, split into those whose user has signed in
    through this organization's IdP, administrators still on a password (E2) and
    members yet to make their first IdP sign-in; plus single logout and the session
    lifetime. One query when the caller passes the organization's connection (two
    otherwise), whatever the organization's size."""
    if connection is None:
        connection = sso_connection_of(org)
    staying = Membership.objects.filter(org=org)
    if connection is not None and connection.is_enabled and connection.enabled_at:
        staying = staying.exclude(removed_by_enable(connection.enabled_at))
    through_idp = Exists(SSOIdentity.objects.filter(org=org, user=OuterRef("user_id"),
                                                    first_sso_login_at__isnull=False))
    # E2's administrators (kept_by_enable); one made since awaits the IdP like a member.
    admin = Q(role=Membership.Role.ADMIN, owner_unconfirmed=False)
    if connection is not None and connection.is_enabled and connection.enabled_at:
        admin = kept_by_enable(connection.enabled_at)
    counts = staying.aggregate(
        signed_in_through_idp=Count("pk", filter=through_idp),
        admins_on_password=Count("pk", filter=~through_idp & admin),
        awaiting_first_sso_sign_in=Count("pk", filter=~through_idp & ~admin),
    )
    lifetime = connection.session_lifetime if connection is not None else SESSION_LIFETIME_DEFAULT
    return {
        **counts,
        "single_logout": bool(connection is not None and connection.idp_slo_url),
        "session_lifetime_hours": lifetime // timedelta(hours=1),
    }


def awaits_sso_removal(membership: Membership | None, connection: SSOConnection | None = None) -> bool:
    """Is this membership one the running (or finished) SSO enable removes (the rule of
    members_awaiting_removal)? One query, or none when the caller has the organization's
    connection at hand; none for administrators."""
    if membership is None or membership.role == Membership.Role.ADMIN:
        return False
    last_change = max(membership.created_at, membership.role_changed_at or membership.created_at)
    if connection is not None:
        return bool(connection.is_enabled and connection.enabled_at and connection.enabled_at > last_change)
    return SSOConnection.objects.filter(org_id=membership.org_id, state=SSOConnection.State.ENABLED,
                                        enabled_at__gt=last_change).exists()


def sso_identity_of(user) -> SSOIdentity | None:
    if user is None or not getattr(user, "pk", None):
        return None
    return SSOIdentity.objects.select_related("org").filter(user=user).first()


def sso_only_org(user) -> Organization | None:
    """The organization whose IdP this account must sign in through (E11, E2): it is in
    an organization that enforces SSO — as a non-admin, as an administrator made since the
    enable, or as one the enable kept who has signed in through that IdP once (the rule of
    sso.sessions.password_still_allowed) — however the membership came. Not counted: a
    member the enable is removing (their access has ended, E1) and a membership
    Directory Sync attached without its owner's agreement (a directory must not lock
    an owner out of their account, §7; such a membership reaches the organization
    only through its IdP, E12, once the owner confirms)."""
    if user is None or not getattr(user, "pk", None) or user.is_staff or user.is_superuser:
        return None  # operators: password only, and no IdP signs them in (E14); E12 keeps them out
    enforced = F("org__sso_connection__enabled_at")
    first_sso_sign_in = SSOIdentity.objects.filter(org_id=OuterRef("org_id"), user_id=OuterRef("user_id"),
                                                   first_sso_login_at__isnull=False)
    membership = (
        Membership.objects.select_related("org")
        .filter(user=user, owner_unconfirmed=False, org__sso_connection__state=SSOConnection.State.ENABLED)
        .exclude(removed_by_enable(enforced))
        .filter(~kept_by_enable(enforced) | Exists(first_sso_sign_in))
        .order_by("org__name", "pk")
        .first()
    )
    return membership.org if membership else None


def verified_domains(*, org: Organization) -> QuerySet[VerifiedDomain]:
    return VerifiedDomain.objects.filter(org=org).order_by("domain")


def domain_verified_by(*, org: Organization, email: str) -> bool:
    domain = (email or "").rpartition("@")[2].lower()
    return bool(domain) and VerifiedDomain.objects.filter(org=org, domain=domain, verified_at__isnull=False).exists()


def tied_to_org(*, org: Organization, user) -> bool:
    """Hostile-IdP guard: may this organization's IdP sign this existing account in?
    A membership counts unless Directory Sync attached the account without its owner's
    agreement (`owner_unconfirmed`): an organization's directory can reach any email."""
    return (
        Membership.objects.filter(org=org, user=user, owner_unconfirmed=False).exists()
        or SSORemoval.objects.filter(org=org, user=user).exists()
        or SSOIdentity.objects.filter(org=org, user=user).exists()
        or domain_verified_by(org=org, email=user.email)
    )


def enable_preview(*, org: Organization) -> dict:
    """What enabling SSO would do: who is removed, which administrators stay,
    how many credentials stay active (E1, E2, E7)."""
    memberships = Membership.objects.filter(org=org).select_related("user").order_by("user__email")
    removed = memberships.exclude(role=Membership.Role.ADMIN)
    admins = memberships.filter(role=Membership.Role.ADMIN)
    return {
        "remove_count": removed.count(),
        "removed": [m.user.email for m in removed[:100]],
        "admins": [m.user.email for m in admins],
        "database_admins_removed": removed.filter(is_database_admin=True).count(),
        "active_database_passwords": DatabasePassword.objects.filter(org=org, revoked_at__isnull=True).count(),
        "active_service_tokens": ServiceToken.objects.filter(org=org, revoked_at__isnull=True).count(),
        "pending_invitations": org.invitations.filter(status=Invitation.Status.PENDING).count(),
    }


def sso_org_for_slug(slug: str) -> Organization | None:
    """Home-realm discovery for /sso/ by the organization's slug: that organization when it
    enforces single sign-on, else None."""
    return Organization.objects.filter(slug=slug, sso_connection__state=SSOConnection.State.ENABLED).first()


def sso_org_for_email(email: str) -> Organization | None:
    """Home-realm discovery for /sso/: the SSO-enabled organization that verified this
    email's domain, or None. Only a verified domain answers, as it is public already (DNS):
    an account's links, memberships or removal records would tell anyone who types an
    address where its owner works. Everyone else types their organization's slug."""
    domain = email.rpartition("@")[2]
    if not domain:
        return None
    return (Organization.objects
            .filter(sso_connection__state=SSOConnection.State.ENABLED,
                    pk__in=VerifiedDomain.objects.filter(domain=domain, verified_at__isnull=False).values("org_id"))
            .first())


def group_rule_list(*, org: Organization) -> QuerySet[GroupRule]:
    """The organization's group rules, with their teams, by group name."""
    return GroupRule.objects.filter(org=org).select_related("team").order_by("group_name", "pk")


def group_rule_get(*, org: Organization, rule_id) -> GroupRule | None:
    if not str(rule_id).isdigit():
        return None
    return group_rule_list(org=org).filter(pk=rule_id).first()
