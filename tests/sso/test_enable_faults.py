"""The enable job and the emails of SSO and invitations with the broker (Redis) down or
frozen (issue 10, item 6): the change that asked for them is committed and answered as
usual, never a 500 after the commit; the enable job is queued again by the periodic
resume once Redis is back, and every member is removed exactly once; an email runs in
the web process instead."""
import logging
import time

import pytest
from django.core import mail

from accounts.models import User
from orgs.models import AuditEvent, Membership
from sso.models import SSOConnection
from sso.tasks import resume_sso_jobs

pytestmark = pytest.mark.django_db

MEMBERS = 25
BASE = "/api/v1/organizations/acme"


@pytest.fixture
def many_members(org):
    users = User.objects.bulk_create([User(email=f"m{i:03d}@acme.test", password="!") for i in range(MEMBERS)])
    Membership.objects.bulk_create([Membership(org=org, user=user, role=Membership.Role.MEMBER) for user in users])
    return users


def _removal(connection):
    return SSOConnection.objects.filter(pk=connection.pk).values_list("removal_done", "removal_status").get()


def _non_admins(org):
    return Membership.objects.filter(org=org).exclude(role=Membership.Role.ADMIN).count()


def _queued(broker, task: str = "sso.tasks.remove_non_admins") -> int:
    """How many messages of `task` wait in the broker's queue."""
    import json

    import redis

    messages = redis.Redis.from_url(broker.url).lrange("gatehouse", 0, -1)
    return sum(json.loads(message)["headers"]["task"] == task for message in messages)


def _enable(admin_client, django_capture_on_commit_callbacks):
    started = time.monotonic()
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(BASE + "/sso/enable", content_type="application/json")
    return response, time.monotonic() - started


def test_enable_with_redis_down_answers_ok_and_the_resume_finishes_the_job_once(
        admin_client, org, connection, many_members, celery_broker, django_capture_on_commit_callbacks, caplog,
        fresh_fault_log):
    celery_broker.kill()
    with caplog.at_level(logging.WARNING, logger="config.enqueue"):
        response, _ = _enable(admin_client, django_capture_on_commit_callbacks)
    assert response.status_code == 200, response.content[:300]
    assert response.json()["state"] == "enabled"
    # Committed and recorded as running: nothing removed yet, nothing forgotten.
    assert _removal(connection) == (0, "running")
    assert _non_admins(org) == MEMBERS
    assert "sso.tasks.remove_non_admins not queued" in caplog.text

    celery_broker.restart()
    # Beat's periodic resume (and a worker start) queue the job again: here it lands in the
    # broker, which proves the message is sent once Redis is back …
    resume_sso_jobs.apply()
    assert _queued(celery_broker) == 1
    # … and a run of it (in this process) removes every member exactly once.
    from sso.tasks import remove_non_admins

    remove_non_admins.apply(args=(org.pk,))
    assert _removal(connection) == (MEMBERS, "done")
    assert _non_admins(org) == 0
    removed = AuditEvent.objects.filter(org=org, event="member.removed", new__reason="sso_enabled")
    assert removed.count() == removed.values("target_id").distinct().count() == MEMBERS


def test_enable_with_redis_frozen_answers_within_the_client_timeouts(
        admin_client, connection, many_members, celery_broker, django_capture_on_commit_callbacks, settings,
        fresh_fault_log):
    celery_broker.freeze()
    try:
        response, took = _enable(admin_client, django_capture_on_commit_callbacks)
    finally:
        celery_broker.thaw()
    assert response.status_code == 200, response.content[:300]
    # Three tries (CELERY_TASK_PUBLISH_RETRY_POLICY) of REDIS_TIMEOUT_SECONDS each, and some slack.
    assert took < 4 * settings.REDIS_TIMEOUT_SECONDS + 1.5, took
    assert _removal(connection) == (0, "running")


def test_enable_with_redis_up_queues_the_job_once(admin_client, connection, many_members, celery_broker,
                                                  django_capture_on_commit_callbacks):
    response, _ = _enable(admin_client, django_capture_on_commit_callbacks)
    assert response.status_code == 200
    assert _queued(celery_broker) == 1
    # Beside it, the numbering of the enable's webhook event (orgs.events), queued once too.
    assert _queued(celery_broker, "orgs.tasks.sequence_events") == 1


def test_invitation_with_redis_down_is_sent_from_the_web_process(admin_client, org, celery_broker,
                                                                 django_capture_on_commit_callbacks, fresh_fault_log):
    celery_broker.kill()
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(BASE + "/invitations", {"email": "new@elsewhere.test"},
                                     content_type="application/json")
    assert response.status_code == 201, response.content[:300]
    assert [message.to for message in mail.outbox] == [["new@elsewhere.test"]]
    assert "/invitations/" in mail.outbox[0].body


def test_an_email_that_fails_in_process_is_logged_not_raised(admin_client, org, celery_broker, monkeypatch, caplog,
                                                            django_capture_on_commit_callbacks, fresh_fault_log):
    celery_broker.kill()

    def smtp_down(*args, **kwargs):
        raise ConnectionRefusedError("smtp down")

    monkeypatch.setattr("orgs.tasks.send_mail", smtp_down)
    with caplog.at_level(logging.ERROR, logger="config.enqueue"), \
            django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(BASE + "/invitations", {"email": "new@elsewhere.test"},
                                     content_type="application/json")
    assert response.status_code == 201  # the invitation exists; the dashboard can resend it
    assert org.invitations.filter(email="new@elsewhere.test").exists()
    assert "orgs.tasks.send_invitation_email failed in process" in caplog.text


def test_beat_resumes_the_sso_jobs_on_a_schedule(settings):
    from config.celery import app

    entry = settings.CELERY_BEAT_SCHEDULE["resume-sso-jobs"]
    assert entry["task"] == resume_sso_jobs.name and entry["task"] in app.tasks
    assert entry["schedule"] == settings.SSO_RESUME_EVERY_SECONDS > 0
