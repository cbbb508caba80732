"""Rules other apps add to team services, without teams importing them.

Directory Sync registers a block on manual team creation while an organization's
teams come from its identity provider's groups (DS3, DS5): a hand-made team
there would have no group behind it and would collide with a group of that name.
A check takes the organization and returns a refusal message or None.

Teams shows each member's teams on the organization's members page (an
orgs.policy member-details provider), so orgs never imports teams.

Rule ids: docs/rules.md.
"""
from config.hooks import Hooks
from orgs.policy import register_member_details, register_member_page_details

from .models import TeamMember
from .selectors import teams_by_membership

_team_creation_blocks = Hooks()
register_team_creation_block = _team_creation_blocks.register


def team_creation_block_reason(org) -> str | None:
    return _team_creation_blocks.first(org)


@register_member_details
def member_teams(org, memberships) -> dict:
    """{membership id: {"teams": [team names]}} for a page of members, in one query."""
    names = teams_by_membership(org=org, membership_ids=[membership.pk for membership in memberships])
    return {membership_id: {"teams": teams} for membership_id, teams in names.items()}


@register_member_page_details
def teams_given_by_rules(org, membership) -> dict:
    """The member's teams that a group rule gave (leaving the group takes them away)."""
    names = list(TeamMember.objects.filter(org=org, membership=membership, by_rule=True)
                 .order_by("team__name").values_list("team__name", flat=True))
    return {"teams_by_rule": names} if names else {}
