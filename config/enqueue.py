"""Queueing a Celery task once the transaction that asked for it commits, without
turning a broker outage into an error for a change that is already saved.

When the broker (Redis) cannot take the message, what happens depends on the task:

- `if_unqueued=RESUME`: nothing is lost because the task's work is recorded in the
  database (the SSO enable job's RUNNING state, the removal-email outbox); the periodic
  `sso.tasks.resume_sso_jobs` (Celery beat, every SSO_RESUME_EVERY_SECONDS) and every
  worker start queue it again. The request answers as if it had been queued.
- `if_unqueued=RUN_HERE`: a small task (one email) runs in this process, as the
  embedded default runs every task. Its own failure is logged, not raised: the change
  it reports on is committed.

Either way the log says so (config.faults.warn_throttled), never once per request.
"""
import logging
from enum import Enum

from django.db import transaction
from kombu.exceptions import OperationalError as BrokerUnavailable

from .faults import CACHE_ERRORS, warn_throttled

log = logging.getLogger(__name__)
# What apply_async raises when the broker is down, frozen or refuses the connection.
BROKER_ERRORS = (BrokerUnavailable, *CACHE_ERRORS)


class IfUnqueued(Enum):
    RESUME = "resume"
    RUN_HERE = "run_here"


RESUME, RUN_HERE = IfUnqueued.RESUME, IfUnqueued.RUN_HERE


def enqueue_on_commit(task, *, if_unqueued: IfUnqueued, args: tuple = (), kwargs: dict | None = None) -> None:
    """`task.apply_async(args, kwargs)` after the current transaction commits (at once
    outside one)."""
    kwargs = kwargs or {}
    transaction.on_commit(lambda: _send(task, if_unqueued, args, kwargs))


def _send(task, if_unqueued: IfUnqueued, args: tuple, kwargs: dict) -> None:
    try:
        task.apply_async(args, kwargs)
        return
    except BROKER_ERRORS:
        pass
    if if_unqueued is RESUME:
        warn_throttled(log, f"enqueue.{task.name}",
                       f"{task.name} not queued (broker unavailable); the periodic resume queues it again")
        return
    warn_throttled(log, f"enqueue.{task.name}", f"{task.name} not queued (broker unavailable); run in this process")
    try:
        task.apply(args, kwargs, throw=True)
    except Exception:  # noqa: BLE001 - the change is committed; its notification failed
        log.exception("%s failed in process while the broker was unavailable", task.name)
