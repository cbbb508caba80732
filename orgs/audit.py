"""Writing audit events. Services call `audit_record` inside their transaction.

The client IP comes from the request that is being served (set by
`orgs.middleware.AuditContextMiddleware`); tasks and commands have none.
"""
import contextvars

from config import sql

from . import events
from .models import AuditEvent

_client_ip: contextvars.ContextVar[str | None] = contextvars.ContextVar("audit_client_ip", default=None)

SYSTEM = "system"


class Events:
    ORG_CREATED = "org.created"
    ORG_PLAN_CHANGED = "org.plan_changed"
    MEMBER_ADDED = "member.added"
    MEMBER_ROLE_CHANGED = "member.role_changed"
    MEMBER_DATABASE_ADMIN_CHANGED = "member.database_admin_changed"
    MEMBER_REMOVED = "member.removed"
    MEMBER_DIRECTORY_MANAGED_CHANGED = "member.directory_managed_changed"
    INVITATION_CREATED = "invitation.created"
    INVITATION_RESENT = "invitation.resent"
    INVITATION_REVOKED = "invitation.revoked"
    INVITATION_ACCEPTED = "invitation.accepted"
    TEAM_CREATED = "team.created"
    TEAM_RENAMED = "team.renamed"
    TEAM_DELETED = "team.deleted"
    TEAM_MEMBER_ADDED = "team.member_added"
    TEAM_MEMBER_REMOVED = "team.member_removed"
    DATABASE_CREATED = "database.created"
    DATABASE_DELETED = "database.deleted"
    DATABASE_PASSWORD_CREATED = "database_password.created"
    DATABASE_PASSWORD_REVOKED = "database_password.revoked"
    SERVICE_TOKEN_CREATED = "service_token.created"
    SERVICE_TOKEN_REVOKED = "service_token.revoked"
    AUDIT_EXPORTED = "audit.exported"


_event_catalogues: list[type] = [Events]

# What webhooks and the events API carry of these (orgs.events).
events.carry({
    Events.MEMBER_ADDED: "A person joined the organization (invitation, SSO sign-in, Directory Sync, an operator).",
    Events.MEMBER_REMOVED: "A membership ended (`before`: its role and database administrator grant; "
                           "`after.reason`).",
    Events.MEMBER_ROLE_CHANGED: "A member's role changed (`before.role` → `after.role`).",
    Events.MEMBER_DATABASE_ADMIN_CHANGED: "The Database Administrator grant was given or taken.",
    Events.TEAM_CREATED: "A team was created (by hand or for a directory group).",
    Events.TEAM_RENAMED: "A team was renamed.",
    Events.TEAM_DELETED: "A team was deleted.",
    Events.TEAM_MEMBER_ADDED: "A member was added to a team.",
    Events.TEAM_MEMBER_REMOVED: "A member was removed from a team.",
})


def register_events(catalogue: type) -> type:
    """Other apps (sso, scim) add their event names so the audit log filter offers them."""
    if catalogue not in _event_catalogues:
        _event_catalogues.append(catalogue)
    return catalogue


def event_names() -> list[str]:
    return sorted({value for catalogue in _event_catalogues for key, value in vars(catalogue).items()
                   if key.isupper() and isinstance(value, str)})


def set_client_ip(ip: str | None) -> contextvars.Token:
    return _client_ip.set(ip)


def reset_client_ip(token: contextvars.Token) -> None:
    _client_ip.reset(token)


def audit_row(*, org, actor, event: str, target=None, target_label: str = "", old=None, new=None,
              actor_label: str | None = None) -> AuditEvent:
    """The unsaved event `audit_record` writes; for services that insert many at once
    (or inside one statement). `actor` is a User or None (the system or an identity
    provider, named by `actor_label`). An unsaved target leaves target_id to the caller."""
    if target is not None:
        target_type = target._meta.model_name
        target_id = "" if target.pk is None else str(target.pk)
        target_label = target_label or str(target)
    else:
        target_type = target_id = ""
    return AuditEvent(
        org=org,
        actor=actor,
        actor_label=actor_label or (actor.email if actor is not None else SYSTEM),
        event=event,
        target_type=target_type,
        target_id=target_id,
        target_label=target_label[:254],
        old=old,
        new=new,
        ip_address=_client_ip.get(),
    )


def audit_record(*, org, actor, event: str, target=None, target_label: str = "", old=None, new=None,
                 actor_label: str | None = None) -> AuditEvent:
    """Append one event, inside the caller's transaction (one INSERT, without the ORM's
    cost per statement: every SSO sign-in writes one; two for a type webhooks carry).
    Services that insert audit rows themselves pass them to orgs.events.record_many."""
    row = audit_row(org=org, actor=actor, event=event, target=target, target_label=target_label, old=old, new=new,
                    actor_label=actor_label)
    sql.insert(row)
    if events.is_carried(event):
        events.record(row)  # the webhook outbox: one INSERT more, in the same transaction
    return row
