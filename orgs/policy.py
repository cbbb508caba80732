"""Rules other apps add to organization services, without orgs importing them.

The SSO app registers an invitation block while an organization enforces SSO
(SPEC E4). A check takes the organization and returns a refusal message or None.
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
