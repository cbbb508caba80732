"""Rules other apps add to organization services, without orgs importing them.

The SSO app registers an invitation block while an organization enforces SSO
(SPEC E4) and an access block for members its enable job is about to remove
(SPEC E1: their access ends at once, not when the job reaches them). An
invitation check takes the organization and returns a refusal message or None;
an access check takes a membership and returns True when it no longer grants access;
the same rule as a query (a Q over Membership) keeps such organizations out of lists.
"""
from config.hooks import Hooks

_invitation_blocks = Hooks()
register_invitation_block = _invitation_blocks.register

_access_blocks = Hooks()
register_access_block = _access_blocks.register
_access_block_queries = Hooks()
register_access_block_query = _access_block_queries.register


def invitation_block_reason(org) -> str | None:
    return _invitation_blocks.first(org)


def membership_grants_access(membership) -> bool:
    return not _access_blocks.first(membership)


def memberships_without_access():
    """A Q over Membership matching those the registered access blocks refuse, or None."""
    query = None
    for make in _access_block_queries._checks:
        query = make() if query is None else query | make()
    return query
