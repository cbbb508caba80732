"""accounts.sessions: database sessions whose new session is one INSERT."""
import pytest
from django.contrib.sessions.backends.base import CreateError
from django.contrib.sessions.models import Session
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.sessions import SessionStore
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def _session_statements(queries):
    return [q["sql"].split()[0].upper() for q in queries if "django_session" in q["sql"]]


def test_a_sign_in_writes_its_session_with_one_insert(client, admin_user):
    with CaptureQueriesContext(connection) as queries:
        response = client.post("/accounts/login/", {"username": admin_user.email, "password": PASSWORD})
    assert response.status_code == 302
    assert _session_statements(queries.captured_queries) == ["INSERT"]
    session = Session.objects.get(session_key=client.cookies["sessionid"].value)
    assert session.get_decoded()["_auth_user_id"] == str(admin_user.pk)
    assert client.get("/").status_code in (200, 302)  # the session loads: signed in
    assert client.session["_auth_user_id"] == str(admin_user.pk)


def test_new_keys_are_valid_django_session_keys_and_differ():
    from django.contrib.sessions.backends.base import VALID_KEY_CHARS

    keys = {SessionStore()._get_new_session_key() for _ in range(1000)}
    assert len(keys) == 1000
    assert all(len(key) == 32 and set(key) <= set(VALID_KEY_CHARS) for key in keys)
    assert SessionStore()._validate_session_key(next(iter(keys)))


def test_a_key_collision_draws_a_new_key_and_leaves_the_other_session_alone(monkeypatch):
    existing = SessionStore()
    existing["owner"] = "someone else"
    existing.save()
    keys = iter([existing.session_key, "n" * 32])
    monkeypatch.setattr(SessionStore, "_get_new_session_key", lambda self: next(keys))
    store = SessionStore()
    store["owner"] = "me"
    store.save()
    assert store.session_key == "n" * 32
    assert SessionStore(existing.session_key).load() == {"owner": "someone else"}
    assert SessionStore("n" * 32).load() == {"owner": "me"}


def test_must_create_with_a_taken_key_is_refused_as_django_documents():
    existing = SessionStore()
    existing["a"] = 1
    existing.save()
    store = SessionStore(existing.session_key)
    store._session_cache = {"b": 2}
    with pytest.raises(CreateError):
        store.save(must_create=True)
    assert SessionStore(existing.session_key).load() == {"a": 1}


def test_changes_to_an_existing_session_are_updates():
    store = SessionStore()
    store["n"] = 1
    store.save()
    again = SessionStore(store.session_key)
    again["n"] = 2
    with CaptureQueriesContext(connection) as queries:
        again.save()
    assert "UPDATE" in _session_statements(queries.captured_queries)
    assert "INSERT" not in _session_statements(queries.captured_queries)
    assert SessionStore(store.session_key).load() == {"n": 2}


def test_cycle_key_moves_the_data_and_ends_the_old_key():
    store = SessionStore()
    store["n"] = 1
    store.save()
    old = store.session_key
    store.cycle_key()
    store.save()
    assert store.session_key != old
    assert not Session.objects.filter(session_key=old).exists()
    assert SessionStore(store.session_key).load() == {"n": 1}


def test_an_untouched_visit_writes_no_session(client, db):
    with CaptureQueriesContext(connection) as queries:
        client.get("/accounts/login/")
    assert _session_statements(queries.captured_queries) == []


def _companion_table():
    """A throwaway table for writes that name a session (what sso.sessions.bind adds)."""
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE IF NOT EXISTS companion_rows (session_key varchar(40) NOT NULL)")
    return lambda key: [("INSERT INTO companion_rows (session_key) VALUES (%s)", [key])]


def _companion_keys():
    with connection.cursor() as cursor:
        cursor.execute("SELECT session_key FROM companion_rows ORDER BY session_key")
        return [row[0] for row in cursor.fetchall()]


def test_writes_that_name_a_new_session_go_with_its_insert(monkeypatch):
    rows = _companion_table()
    existing = SessionStore()
    existing.save()
    keys = iter([existing.session_key, "m" * 32])  # the first key collides: both are redrawn together
    monkeypatch.setattr(SessionStore, "_get_new_session_key", lambda self: next(keys))
    store = SessionStore()
    store.create()
    store.write_with_new_session(rows)
    with CaptureQueriesContext(connection) as queries:
        store.save()
    assert store.session_key == "m" * 32
    assert _companion_keys() == ["m" * 32]  # none for the colliding key
    written = [q["sql"] for q in queries.captured_queries if "companion_rows" in q["sql"]]
    if connection.vendor == "postgresql":
        # One statement: the companion a CTE of the session's INSERT.
        assert len(written) == 2 and all("django_session" in sql for sql in written)
    store.save()  # written once
    assert _companion_keys() == ["m" * 32]


def test_writes_that_name_an_existing_session_follow_its_update():
    rows = _companion_table()
    store = SessionStore()
    store["a"] = 1
    store.save()
    store.write_with_new_session(rows)
    store.save()
    assert _companion_keys() == [store.session_key]
