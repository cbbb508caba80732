"""Rules other apps add to organization services, without orgs importing them.

The SSO app registers an invitation block while an organization enforces SSO
(E4) and an access block for members its enable job is about to remove
(E1: their access ends at once, not when the job reaches them). An
invitation check takes the organization and returns a refusal message or None;
an access block returns a Q over Membership matching the memberships that no
longer grant access, which every membership lookup for access and every list of
the caller's organizations leaves out (orgs.selectors), in the same query.

Session gates decide whether the *session* that asks may reach an organization
it is a member of (SSO's E12/E13: only a session that organization's IdP made,
within its lifetime). The values a gate needs come from annotations registered
with `register_access_annotations`, added to the membership lookup itself, so a
gate reads only the session and that one row: no query of its own. A plan change
block refuses an operator's plan change (SSO's D3) with a message.

Rule ids: docs/rules.md.
"""
import re
from dataclasses import dataclass

from accounts.policy import SignupInvitation, register_signup_invitation
from config.hooks import Hooks

_invitation_blocks = Hooks()
register_invitation_block = _invitation_blocks.register

_access_blocks = Hooks()
register_access_block = _access_blocks.register


def invitation_block_reason(org) -> str | None:
    return _invitation_blocks.first(org)


def access_blocks_registered() -> tuple:
    return _access_blocks.registered()


def memberships_without_access():
    """A Q over Membership matching those the registered access blocks refuse, or None."""
    query = None
    for blocked in _access_blocks.answers():
        query = blocked if query is None else query | blocked
    return query


_access_annotations = Hooks()
register_access_annotations = _access_annotations.register

_session_gates = Hooks()
register_session_gate = _session_gates.register

_plan_change_blocks = Hooks()
register_plan_change_block = _plan_change_blocks.register


@dataclass(frozen=True)
class SessionRefusal:
    """A session that may not reach an organization, and where it goes to be let in.
    `sign_in_url` is a path on this site; the edge appends `next=` (the page asked for)."""

    code: str
    message: str
    sign_in_url: str


def access_annotations() -> dict:
    """Annotations for the access lookup of a Membership (`membership_for_slug`)."""
    merged: dict = {}
    for annotations in _access_annotations.answers():
        merged.update(annotations)
    return merged


def session_refusal(request, membership) -> SessionRefusal | None:
    """Why this request's session may not reach `membership`'s organization, or None.
    `membership` comes from membership_for_slug (it carries access_annotations)."""
    return _session_gates.first(request, membership)


def plan_change_block_reason(org, plan: str, sso_addon: bool) -> str | None:
    return _plan_change_blocks.first(org, plan, sso_addon)


# Warnings an operator sees when adding an account to an organization (add_member): a
# check takes (org, user) and returns a warning or None; the member is added anyway.
_member_add_warnings = Hooks()
register_member_add_warning = _member_add_warnings.register


def member_add_warnings(org, user) -> list[str]:
    return [warning for warning in _member_add_warnings.answers(org, user) if warning]


# What other apps show next to each member on the members page: a provider takes
# (org, memberships of one page) and returns {membership id: {name: value}}, in a
# constant number of queries (one per page, not one per member).
_member_details = Hooks()
register_member_details = _member_details.register


def member_details(org, memberships) -> dict:
    merged: dict = {}
    for details in _member_details.answers(org, memberships):
        for membership_id, values in details.items():
            merged.setdefault(membership_id, {}).update(values)
    return merged


# What other apps show on one member's own page (orgs.views.member_detail), beyond the
# members list's member_details: heavier values read for that one member only (the last
# attributes the IdP sent, the directory's resource). A provider takes (org, membership)
# and returns {name: value}, or {} when it has nothing to show.
_member_page_details = Hooks()
register_member_page_details = _member_page_details.register


def member_page_details(org, membership) -> dict:
    merged: dict = {}
    for details in _member_page_details.answers(org, membership):
        merged.update(details or {})
    return merged


# Hooks orgs fills -----------------------------------------------------------------

INVITATION_PATH = re.compile(r"/invitations/([A-Za-z0-9_\-]{1,200})/")


@register_signup_invitation
def invitation_being_accepted(next_path: str) -> SignupInvitation | None:
    """A sign-up on its way to an invitation link accepts that invitation, if it still can be."""
    from .services import InvitationInvalid, invitation_lookup  # services import this module

    match = INVITATION_PATH.fullmatch(next_path)
    if not match:
        return None
    try:
        invitation = invitation_lookup(match.group(1))
    except InvitationInvalid:
        return None
    return SignupInvitation(email=invitation.email, organization=invitation.org.name)
