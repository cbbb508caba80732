"""accounts/fastpath.py against its specification, the ORM lookups Django's database
session store and ModelBackend make (session_row_orm, user_by_pk_orm): the same instance
(every field) or None, nothing written, on SQLite and on PostgreSQL; and a signed-in
request still reaches its pages through them, while an expired session does not."""
from datetime import timedelta

import pytest
from django.contrib.sessions.models import Session
from django.utils import timezone

from accounts import fastpath
from accounts.sessions import SessionStore
from tests.fastpath import run

pytestmark = pytest.mark.django_db


@pytest.fixture
def sessions(admin_user):
    live = SessionStore()
    live["who"] = admin_user.pk
    live.save()
    expired = SessionStore()
    expired["who"] = admin_user.pk
    expired.set_expiry(timezone.now() - timedelta(seconds=1))
    expired.save()
    return live.session_key, expired.session_key


@pytest.mark.parametrize("which", ["live", "expired", "unknown", "none"])
def test_session_row_returns_what_the_orm_does(sessions, which):
    key = {"live": sessions[0], "expired": sessions[1], "unknown": "x" * 32, "none": None}[which]
    orm = run(fastpath.session_row_orm, session_key=key)
    fast = run(fastpath.session_row, session_key=key)
    assert fast == orm and fast.written == {}
    assert (fast.returned is not None) == (which == "live")
    assert len(fast.statements) == (0 if which == "none" else 1)


@pytest.mark.parametrize("pk", ["admin", "admin as text", "missing"])
def test_user_by_pk_returns_what_the_orm_does(admin_user, pk):
    value = {"admin": admin_user.pk, "admin as text": str(admin_user.pk), "missing": admin_user.pk + 1000}[pk]
    orm = run(fastpath.user_by_pk_orm, pk=value)
    fast = run(fastpath.user_by_pk, pk=value)
    assert fast == orm and fast.written == {}
    assert (fast.returned is not None) == (pk != "missing")


def test_a_signed_in_request_reads_its_session_and_account_in_two_statements(client, admin_user, org,
                                                                            django_assert_num_queries):
    client.force_login(admin_user, backend="accounts.backends.EmailBackend")
    with django_assert_num_queries(3):  # the session, the account, the caller's organizations
        response = client.get("/api/v1/user")
    assert response.status_code == 200 and response.json()["user"]["email"] == admin_user.email
    assert [o["slug"] for o in response.json()["organizations"]] == ["acme"]
    Session.objects.update(expire_date=timezone.now() - timedelta(seconds=1))
    assert client.get("/api/v1/user").status_code in (401, 403)
