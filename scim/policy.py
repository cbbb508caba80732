"""Rules scim adds to other apps through their hooks (registered in ScimConfig.ready). Rule ids: docs/rules.md."""
import json

from orgs.policy import register_member_page_details
from sso.policy import register_directory_sync_state, register_jit_admission, register_member_groups
from teams.policy import register_team_creation_block

from .models import DirectoryUser
from .selectors import directory_enabled, group_names_by_membership


@register_team_creation_block
def block_manual_teams_while_directory_sync_is_on(org) -> str | None:
    """DS3/DS5: with Directory Sync on, teams are the IdP's groups."""
    if directory_enabled(org=org):
        return ("Teams come from your identity provider's groups while Directory Sync is on; "
                "create a group there and assign it to the application.")
    return None


@register_jit_admission
def admit_only_users_the_directory_pushed(org, user) -> str | None:
    """E16: under Directory Sync the directory decides who joins through the IdP."""
    if not directory_enabled(org=org):
        return None
    directory_user = DirectoryUser.objects.filter(org=org, user=user).only("active").first()
    if directory_user is None:
        return (f"{org.name} adds people through its directory (Directory Sync), and the directory has not "
                "provisioned you. Ask your administrator to assign you to the application in the identity provider.")
    if not directory_user.active:
        return (f"{org.name}'s directory has removed you (deactivated in the identity provider's provisioning). "
                "Ask your administrator if this is a mistake.")
    return None


@register_directory_sync_state
def directory_sync_is_on(org) -> bool:
    """For the Directory Sync card of Settings › Authentication (DS2)."""
    return directory_enabled(org=org)


@register_member_groups
def directory_groups_of_members(org, membership_ids) -> dict | None:
    """Group rules read SCIM groups while Directory Sync is on (the SAML groups attribute
    otherwise): the names of each pushed member's directory groups."""
    if not directory_enabled(org=org):
        return None
    return group_names_by_membership(org=org, membership_ids=membership_ids)


@register_member_page_details
def directory_user_of_member(org, membership) -> dict:
    """Issue 12 item 4: the directory's resource for this member as last received (no
    password), when, and an email change that could not reach the account (needs attention)."""
    directory_user = DirectoryUser.objects.filter(org=org, user_id=membership.user_id).first()
    if directory_user is None:
        return {}
    resource = {name: value for name, value in (directory_user.raw or {}).items() if name.lower() != "password"}
    return {"directory_user": {
        "resource": json.dumps(resource, indent=2, sort_keys=True, ensure_ascii=False),
        "updated_at": directory_user.updated_at,
        "active": directory_user.active,
        "email_change_pending": directory_user.email_change_pending,
        "email_change_reason": directory_user.email_change_reason,
    }}
