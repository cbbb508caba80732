"""Rules other apps add to team services, without teams importing them.

Directory Sync registers a block on manual team creation while an organization's
teams come from its identity provider's groups (SPEC DS3, DS5): a hand-made team
there would have no group behind it and would collide with a group of that name.
A check takes the organization and returns a refusal message or None.
"""
from collections.abc import Callable

TeamCreationBlock = Callable[["object"], "str | None"]
_team_creation_blocks: list[TeamCreationBlock] = []


def register_team_creation_block(check: TeamCreationBlock) -> TeamCreationBlock:
    if check not in _team_creation_blocks:
        _team_creation_blocks.append(check)
    return check


def team_creation_block_reason(org) -> str | None:
    for check in _team_creation_blocks:
        message = check(org)
        if message:
            return message
    return None
