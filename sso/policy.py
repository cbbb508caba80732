"""Rules sso adds to other apps through their hooks (registered in SsoConfig.ready),
and the hooks sso offers to the apps above it (at the end).

Rule ids: docs/rules.md."""
from django.db.models import F, Q
from django.utils.html import format_html

from accounts.policy import register_password_signin_check, register_sign_out_redirect
from config.hooks import Hooks
from orgs.models import sso_available_for
from orgs.policy import (register_access_annotations, register_access_block, register_invitation_block,
                         register_member_add_warning, register_member_details, register_member_page_details,
                         register_plan_change_block, register_session_gate)

from . import sessions
from .models import SSOConnection, SSOIdentity
from .selectors import removed_by_enable, sso_is_enabled, sso_only_org


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
def members_the_enable_is_removing() -> Q:
    """E1: a member the enable job will remove loses access when SSO is enabled, not
    minutes later when the job reaches their batch."""
    return (Q(org__sso_connection__state=SSOConnection.State.ENABLED)
            & removed_by_enable(F("org__sso_connection__enabled_at")))


# E12, E13: only a session this organization's IdP made, within its lifetime, reaches it.
register_access_annotations(sessions.access_annotations)
register_session_gate(sessions.session_gate)


@register_sign_out_redirect
def sign_out_at_the_idp(request):
    """E13 single logout: signing out of a session an IdP made continues at that IdP."""
    from .slo import sign_out_redirect  # sso.slo reaches sso.services, which imports this module

    return sign_out_redirect(request)


@register_plan_change_block
def keep_sso_available_while_enabled(org, plan, sso_addon) -> str | None:
    """D3: a plan or add-on change that would take SSO away waits until SSO is disabled."""
    if sso_available_for(plan, sso_addon) or not sso_is_enabled(org):
        return None
    return (f"Single sign-on is enabled for {org.name}; disable single sign-on first (an administrator: "
            f"Settings › Authentication; an operator: `manage.py sso_disable {org.slug} --reason TEXT`), "
            "then change the plan or remove the SSO add-on.")


@register_member_add_warning
def warn_staff_in_an_sso_organization(org, user) -> str | None:
    """E14: an IdP never signs in an operator, and E12 keeps a password session out."""
    if (user.is_staff or user.is_superuser) and sso_is_enabled(org):
        return (f"{user.email} is an operator (staff) account and {org.name} enforces single sign-on: its IdP "
                f"will refuse this account and a password session does not open {org.name}'s pages. Add a "
                "non-staff account instead.")
    return None


@register_member_details
def linked_identities(org, memberships) -> dict:
    """E15: each member's identity at this organization's IdP, and where an administrator
    unlinks it (one query for the page)."""
    user_ids = [membership.user_id for membership in memberships]
    identities = {identity.user_id: identity for identity in
                  SSOIdentity.objects.filter(org=org, user_id__in=user_ids).exclude(name_id="")
                  .defer("idp_attributes", "idp_groups")}
    return {membership.pk: {
        "sso_identity": identities[membership.user_id],
        # "…:nameid-format:persistent" → "persistent"; a subject attribute's value has no format.
        "sso_identity_format": identities[membership.user_id].name_id_format.rpartition(":")[2],
        "sso_unlink_url": f"/orgs/{org.slug}/settings/authentication/identities/{membership.pk}/unlink/",
    } for membership in memberships if membership.user_id in identities}


@register_member_page_details
def what_the_idp_sent(org, membership) -> dict:
    """Issue 12 item 4: the attributes the IdP sent at the member's last sign-in here and
    the groups named in them (what group rules read without Directory Sync)."""
    identity = (SSOIdentity.objects.filter(org=org, user_id=membership.user_id)
                .only("idp_attributes", "idp_groups", "last_sso_login_at").first())
    if identity is None:
        return {}
    return {"idp": {
        "attributes": sorted((name, values if isinstance(values, list) else [values])
                             for name, values in (identity.idp_attributes or {}).items()),
        "groups": list(identity.idp_groups or []),
        "last_sso_login_at": identity.last_sso_login_at,
    }}


# Hooks sso offers -----------------------------------------------------------------

# E16: may an SSO sign-in add this account to this organization just in time? A check
# takes (org, user) and returns a refusal message or None. Directory Sync registers one.
_jit_admissions = Hooks()
register_jit_admission = _jit_admissions.register


def jit_admission_refusal(org, user) -> str | None:
    return _jit_admissions.first(org, user)


# The Directory Sync card of Settings › Authentication (DS2): is the organization's directory
# on? A check takes (org) and answers True or False; Directory Sync registers one.
_directory_sync_states = Hooks()
register_directory_sync_state = _directory_sync_states.register


def directory_sync_enabled(org) -> bool | None:
    """None when no app offers Directory Sync (the page then shows no card)."""
    answers = _directory_sync_states.answers(org)
    return any(answers) if answers else None


# Group rules (sso.group_rules): the IdP groups of a batch of members, from an app that
# keeps them (Directory Sync: its SCIM groups). A provider takes (org, membership ids)
# and returns None when it does not hold this organization's groups (its directory is
# off), else {membership id: [group names]} for the members it knows, in a constant
# number of queries. When none answers, the groups are those the SAML groups attribute
# last sent (SSOIdentity.idp_groups).
_member_groups = Hooks()
register_member_groups = _member_groups.register


def directory_member_groups(org, membership_ids) -> dict | None:
    answers = [answer for answer in _member_groups.answers(org, membership_ids) if answer is not None]
    if not answers:
        return None
    merged: dict = {}
    for answer in answers:
        merged.update(answer)
    return merged



# A test of the connection started through a setup link (the setuplinks app, above sso): a
# check takes (org, link id) and answers the label the audit log names the link by while the
# link is live (unexpired, unrevoked, the plan still with SSO), else None: the ACS then shows
# nothing to that browser.
_setup_link_testers = Hooks()
register_setup_link_tester = _setup_link_testers.register


def setup_link_tester(org, link_id) -> str | None:
    return _setup_link_testers.first(org, link_id)
