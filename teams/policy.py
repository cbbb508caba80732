"""Rules other apps add to team services, without teams importing them.

Directory Sync registers a block on manual team creation while an organization's
teams come from its identity provider's groups (SPEC DS3, DS5): a hand-made team
there would have no group behind it and would collide with a group of that name.
A check takes the organization and returns a refusal message or None.
"""
from config.hooks import Hooks

_team_creation_blocks = Hooks()
register_team_creation_block = _team_creation_blocks.register


def team_creation_block_reason(org) -> str | None:
    return _team_creation_blocks.first(org)
