"""Audit event names of setup links (written with orgs.audit.audit_record). What a link does
is audited under the event of the service it calls (sso.configured, sso.domain_added,
directory_sync.enabled…), with the link as the actor: actor None, actor_label
SetupLink.label."""
from orgs.audit import register_events


@register_events
class SetupLinkEvents:
    CREATED = "setup_link.created"
    REVOKED = "setup_link.revoked"
