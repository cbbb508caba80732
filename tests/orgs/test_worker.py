"""A real Celery worker on Redis sends the invitation email queued on commit (issue 2, item 11)."""
import time

import pytest

from orgs.services import invitation_create

pytestmark = pytest.mark.worker


def test_invitation_email_is_sent_by_a_real_worker(celery_worker_process, org, admin_user):
    invitation, token = invitation_create(org=org, email="new.person@acme.test", role="member", actor=admin_user)
    deadline = time.monotonic() + 20
    mails: list[str] = []
    while time.monotonic() < deadline and not mails:
        mails = celery_worker_process.sent_mail()
        time.sleep(0.2)
    assert mails, "the worker did not send the invitation email"
    assert "new.person@acme.test" in mails[0]
    assert f"/invitations/{token}/" in mails[0]
