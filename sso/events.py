"""Audit event names of the sso app (written with orgs.audit.audit_record). Rule ids: docs/rules.md."""
from orgs import events
from orgs.audit import register_events


@register_events
class SSOEvents:
    CONFIGURED = "sso.configured"
    CERTIFICATE_ADDED = "sso.certificate_added"
    CERTIFICATE_REMOVED = "sso.certificate_removed"
    ENABLED = "sso.enabled"
    DISABLED = "sso.disabled"
    REMOVAL_FINISHED = "sso.removal_finished"
    LOGIN = "sso.login"
    LOGIN_REJECTED = "sso.login_rejected"
    LINK_PENDING = "sso.link_pending"
    LINK_CONFIRMED = "sso.link_confirmed"
    IDENTITY_CONFLICT = "sso.identity_conflict"
    IDENTITY_UNLINKED = "sso.identity_unlinked"
    # E14: a verified domain outranked this link (or an account claim ended it).
    IDENTITY_RELEASED = "sso.identity_released"
    TEST_LOGIN = "sso.test_login"
    DOMAIN_ADDED = "sso.domain_added"
    DOMAIN_VERIFIED = "sso.domain_verified"
    DOMAIN_REMOVED = "sso.domain_removed"
    # Single logout (E13): the IdP ended sessions (how many, in `new`); the SP signing key was made.
    LOGOUT = "sso.logout"
    SP_KEY_CREATED = "sso.sp_key_created"
    # The IdP's word on roles, groups and profiles (sso.identity; DS4 and group rules).
    ROLE_MANAGEMENT_CHANGED = "sso.role_management_changed"
    IDP_ROLE_KEPT = "sso.idp_role_kept"  # the IdP would demote the last administrator: the role stays
    GROUP_RULE_CREATED = "sso.group_rule_created"
    GROUP_RULE_CHANGED = "sso.group_rule_changed"
    GROUP_RULE_REMOVED = "sso.group_rule_removed"
    GROUP_RULE_APPLIED = "sso.group_rule_applied"
    PROFILE_UPDATED = "sso.profile_updated"


# What webhooks and the events API carry (orgs.events).
events.carry({
    SSOEvents.CONFIGURED: "Single sign-on's identity provider settings were saved (`before`/`after`).",
    SSOEvents.ENABLED: "Single sign-on was enabled: non-administrators are removed (`member.removed` events follow).",
    SSOEvents.DISABLED: "Single sign-on was disabled.",
    SSOEvents.LOGIN_REJECTED: "A SAML sign-in was refused (`after.reason`); rate-limited and truncated.",
    SSOEvents.GROUP_RULE_APPLIED: "A group rule changed a member's Database Administrator grant or teams.",
})
