"""Rules sso adds to other apps through their hooks (registered in SsoConfig.ready)."""
from django.utils.html import format_html

from accounts.policy import register_password_signin_check
from orgs.policy import register_access_block, register_access_block_query, register_invitation_block

from .selectors import awaits_sso_removal, sso_is_enabled, sso_only_org


@register_password_signin_check
def refuse_password_for_sso_only_accounts(user) -> str | None:
    """E2 (and D1: once SSO is disabled the check finds no enforcing organization)."""
    org = sso_only_org(user)
    if org is None:
        return None
    return format_html(
        'Your organization {} requires single sign-on. <a href="/sso/?org={}">Sign in with SSO</a>.',
        org.name, org.slug,
    )


@register_invitation_block
def block_invitations_while_sso_enabled(org) -> str | None:
    """E4: membership comes through SSO while the organization enforces it."""
    if sso_is_enabled(org):
        return "Invitations are disabled while single sign-on is enabled; people join by signing in with SSO."
    return None


@register_access_block
def block_members_the_enable_is_removing(membership) -> bool:
    """E1: a member the enable job will remove loses access when SSO is enabled,
    not minutes later when the job reaches their batch."""
    return awaits_sso_removal(membership)


@register_access_block_query
def members_the_enable_is_removing():
    """The rule of block_members_the_enable_is_removing as a query (selectors.awaits_sso_removal)."""
    from django.db.models import F, Q
    from django.db.models.functions import Coalesce, Greatest

    from orgs.models import Membership

    from .models import SSOConnection

    return (~Q(role=Membership.Role.ADMIN) & Q(org__sso_connection__state=SSOConnection.State.ENABLED)
            & Q(org__sso_connection__enabled_at__gt=Greatest(F("created_at"),
                                                              Coalesce(F("role_changed_at"), F("created_at")))))
