"""Rules other apps add to organization services, without orgs importing them.

The SSO app registers an invitation block while an organization enforces SSO
(SPEC E4) and an access block for members its enable job is about to remove
(SPEC E1: their access ends at once, not when the job reaches them). An
invitation check takes the organization and returns a refusal message or None;
an access check takes a membership and returns True when it no longer grants access.
"""
from collections.abc import Callable

InvitationBlock = Callable[["object"], "str | None"]
_invitation_blocks: list[InvitationBlock] = []


def register_invitation_block(check: InvitationBlock) -> InvitationBlock:
    if check not in _invitation_blocks:
        _invitation_blocks.append(check)
    return check


def invitation_block_reason(org) -> str | None:
    for check in _invitation_blocks:
        message = check(org)
        if message:
            return message
    return None


AccessBlock = Callable[["object"], bool]
_access_blocks: list[AccessBlock] = []


def register_access_block(check: AccessBlock) -> AccessBlock:
    if check not in _access_blocks:
        _access_blocks.append(check)
    return check


def membership_grants_access(membership) -> bool:
    return not any(check(membership) for check in _access_blocks)
