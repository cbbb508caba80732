"""Rules other apps add to organization services, without orgs importing them.

The SSO app registers an invitation block while an organization enforces SSO
(SPEC E4) and an access block for members its enable job is about to remove
(SPEC E1: their access ends at once, not when the job reaches them). An
invitation check takes the organization and returns a refusal message or None;
an access block returns a Q over Membership matching the memberships that no
longer grant access, which every membership lookup for access and every list of
the caller's organizations leaves out (orgs.selectors), in the same query.
"""
from config.hooks import Hooks

_invitation_blocks = Hooks()
register_invitation_block = _invitation_blocks.register

_access_blocks = Hooks()
register_access_block = _access_blocks.register


def invitation_block_reason(org) -> str | None:
    return _invitation_blocks.first(org)


def memberships_without_access():
    """A Q over Membership matching those the registered access blocks refuse, or None."""
    query = None
    for blocked in _access_blocks.answers():
        query = blocked if query is None else query | blocked
    return query
