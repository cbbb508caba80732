"""Organization events: the outbox that webhooks deliver and the events API reads.

An event is an audit event of a type webhooks carry (`carry`, which each app calls for
its own types): `orgs.audit.audit_record` writes its `OrgEvent` row beside the audit row,
in the same transaction, one INSERT more; the services that insert audit rows in bulk
(or inside one statement, scim/fastpath.py) write their events the same way
(`record_many`, `event_row`). What happened stays in the audit row (actor, target,
old → new), which the event row points to: nothing is written twice.

Order without losing events: a row is inserted with `seq` NULL. After its transaction
commits, `sequence` numbers an organization's committed, unnumbered rows in id order
under the lock of its `OrgEventSequence` row. Delivery and the events API only ever read
numbered rows, so a cursor on `seq` cannot pass an event whose transaction had not
committed yet: that event gets a later number when it commits. The sequencer runs from
an on-commit task (`orgs.tasks.sequence_events`), from Celery beat
(`webhooks.tasks.deliver_due`, for what a lost message left) and from the events API
before it reads.

Rule ids: docs/rules.md.
"""
import secrets

from django.db import connection, transaction
from django.dispatch import Signal

from config import sql
from config.enqueue import RESUME, enqueue_on_commit

from .models import AuditEvent, OrgEvent, OrgEventSequence

# Sent after commit when `sequence` numbered events of an organization (org_id=): webhooks
# starts delivering them.
events_sequenced = Signal()

# Event type → what it means, for the API reference and the dashboard's checkboxes.
_carried: dict[str, str] = {}

SEQUENCE_BATCH = 10_000


def carry(types: dict[str, str]) -> None:
    """Webhooks and the events API carry these audit event types ({type: description})."""
    _carried.update(types)


def carried_types() -> dict[str, str]:
    """{event type: description}, sorted by type."""
    return dict(sorted(_carried.items()))


def is_carried(event: str) -> bool:
    return event in _carried


def new_public_id() -> str:
    """An event's stable public id (`Gatehouse-Event-Id`): random, so it tells nothing."""
    return f"evt_{secrets.token_hex(12)}"


def event_row(audit: AuditEvent) -> OrgEvent:
    """The unsaved event of the saved (or, in one statement, about to be saved) `audit` row."""
    return OrgEvent(org_id=audit.org_id, audit_id=audit.pk, public_id=new_public_id(), type=audit.event)


def record(audit: AuditEvent) -> None:
    """The event of `audit` (saved, of a carried type): one INSERT in the caller's transaction."""
    statement, params = sql.insert_sql(event_row(audit))
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
    wake(audit.org_id)


def record_many(audits: list[AuditEvent]) -> None:
    """The events of the saved `audits` that are of carried types: one INSERT for all."""
    rows = [event_row(audit) for audit in audits if audit.event in _carried]
    if not rows:
        return
    OrgEvent.objects.bulk_create(rows)
    for org_id in {row.org_id for row in rows}:
        wake(org_id)


def wake(org_id: int) -> None:
    """Number the organization's new events once this transaction commits (then deliver them)."""
    from .tasks import sequence_events

    enqueue_on_commit(sequence_events, if_unqueued=RESUME, args=(org_id,))


def _numbering_sql() -> str:
    e = OrgEvent
    seq, pk, org = sql.column(e, "seq"), sql.column(e, "pk"), sql.column(e, "org")
    return (
        f"UPDATE {sql.table(e)} SET {seq} = numbered.n FROM ("
        f"SELECT {pk} AS id, %s + ROW_NUMBER() OVER (ORDER BY {pk}) AS n FROM {sql.table(e)} "
        f"WHERE {org} = %s AND {seq} IS NULL ORDER BY {pk} LIMIT %s"
        f") numbered WHERE {sql.table(e)}.{pk} = numbered.id"
    )


def sequence(org_id: int, *, batch: int = SEQUENCE_BATCH) -> int:
    """Number the organization's committed, unnumbered events in id order, after the
    last number given; returns how many. Each batch is one transaction holding the
    organization's OrgEventSequence row lock, so sequencers never interleave, and one
    UPDATE numbers the whole batch."""
    total = 0
    while True:
        with transaction.atomic():
            counter = OrgEventSequence.objects.select_for_update().filter(org_id=org_id).first()
            if counter is None:
                OrgEventSequence.objects.bulk_create([OrgEventSequence(org_id=org_id)], ignore_conflicts=True)
                counter = OrgEventSequence.objects.select_for_update().get(org_id=org_id)
            with connection.cursor() as cursor:
                cursor.execute(_numbering_sql(), [counter.last_seq, org_id, batch])
                numbered = cursor.rowcount
            if numbered:
                OrgEventSequence.objects.filter(pk=org_id).update(last_seq=counter.last_seq + numbered)
        total += numbered
        if numbered < batch:
            break
    if total:
        transaction.on_commit(lambda: events_sequenced.send(sender=OrgEvent, org_id=org_id))
    return total


def orgs_with_unsequenced_events() -> list[int]:
    return list(OrgEvent.objects.filter(seq__isnull=True).values_list("org_id", flat=True).distinct())


def last_seq(org_id: int) -> int:
    return OrgEventSequence.objects.filter(org_id=org_id).values_list("last_seq", flat=True).first() or 0


def events_after(*, org, after: int, limit: int, types=None, upto: int | None = None):
    """The organization's numbered events after `after` (up to `upto`, of `types`), in
    order, with their audit rows."""
    found = OrgEvent.objects.filter(org=org, seq__gt=after)
    if upto is not None:
        found = found.filter(seq__lte=upto)
    if types is not None:
        found = found.filter(type__in=list(types))
    return found.select_related("audit").order_by("seq")[:limit]


def payload(event: OrgEvent, *, org_slug: str) -> dict:
    """What a webhook POSTs and the events API lists: the event and what its audit row says."""
    audit = event.audit
    return {
        "id": event.public_id,
        "type": event.type,
        "sequence": event.seq,
        "occurred_at": audit.created_at.isoformat().replace("+00:00", "Z"),
        "organization": org_slug,
        "data": {
            "actor": audit.actor_label,
            "target": {"type": audit.target_type, "id": audit.target_id, "label": audit.target_label},
            "before": audit.old,
            "after": audit.new,
        },
    }
