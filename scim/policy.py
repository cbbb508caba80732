"""Rules scim adds to other apps through their hooks (registered in ScimConfig.ready)."""
from teams.policy import register_team_creation_block

from .models import Directory


@register_team_creation_block
def block_manual_teams_while_directory_sync_is_on(org) -> str | None:
    """DS3/DS5: with Directory Sync on, teams are the IdP's groups."""
    if Directory.objects.filter(org=org, enabled=True).exists():
        return ("Teams come from your identity provider's groups while Directory Sync is on; "
                "create a group there and assign it to the application.")
    return None
