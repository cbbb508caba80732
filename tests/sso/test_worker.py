"""E1 on PostgreSQL with a real Celery worker on Redis: the enable job killed midway
(SIGKILL, as a crashed or redeployed worker) and a new worker started finish the
job with nothing lost and nothing removed, counted or left unannounced twice."""
import time

import pytest

from accounts.models import User
from orgs.models import AuditEvent, Membership
from sso.models import SSOConnection, SSORemoval
from sso.services import sso_enable

pytestmark = pytest.mark.worker

MEMBERS = 3000


def _wait(condition, seconds=60.0, step=0.005):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(step)
    raise AssertionError("timed out")


def _progress(connection):
    return SSOConnection.objects.filter(pk=connection.pk).values_list("removal_done", "removal_status").get()


def test_E1_enable_job_killed_midway_and_restarted_finishes_exactly_once(celery_worker_process, org, admin_user,
                                                                         connection, monkeypatch):
    users = User.objects.bulk_create([User(email=f"w{i:05d}@acme.test", password="!") for i in range(MEMBERS)])
    Membership.objects.bulk_create([Membership(org=org, user=user, role=Membership.Role.MEMBER) for user in users])
    # Small batches so the job is long enough to be killed in the middle.
    celery_worker_process.stop()
    monkeypatch.setenv("SSO_REMOVAL_BATCH_SIZE", "50")
    celery_worker_process.start()

    sso_enable(org=org, actor=admin_user)  # autocommit: the job is queued at once
    _wait(lambda: _progress(connection)[0] > 0)
    celery_worker_process.stop()  # SIGKILL mid-job

    done, status = _progress(connection)
    assert 0 < done < MEMBERS and status == "running", (done, status)
    # Each batch committed whole: the progress counter and the memberships agree.
    left = Membership.objects.filter(org=org).exclude(role=Membership.Role.ADMIN).count()
    assert left == MEMBERS - done

    celery_worker_process.start()  # its worker_ready hook resumes the cut-off job
    _wait(lambda: _progress(connection)[1] == "done")
    assert not Membership.objects.filter(org=org).exclude(role=Membership.Role.ADMIN).exists()
    assert list(Membership.objects.filter(org=org).values_list("user__email", flat=True)) == [admin_user.email]
    connection.refresh_from_db()
    assert (connection.removal_total, connection.removal_done) == (MEMBERS, MEMBERS)
    removed_events = AuditEvent.objects.filter(org=org, event="member.removed", new__reason="sso_enabled")
    assert removed_events.count() == MEMBERS  # nothing removed twice
    assert removed_events.values("target_id").distinct().count() == MEMBERS

    # Every removed member is told how to rejoin, the ones removed before the crash too.
    _wait(lambda: not SSORemoval.objects.filter(org=org, notified_at__isnull=True).exists())
    assert SSORemoval.objects.filter(org=org).count() == MEMBERS
    recipients = set()
    for message in celery_worker_process.sent_mail():
        recipients.update(line[4:].strip() for line in message.splitlines() if line.startswith("To: "))
    assert recipients == {user.email for user in users}
