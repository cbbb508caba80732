"""The two reads of every signed-in request, without the ORM's cost (STYLE: fast paths
are fenced): the session's row and the account. Each is the twin of the ORM call that
specifies it — Django's `db.SessionStore._get_session_from_db` (kept as
`session_row_orm`) and `ModelBackend.get_user`'s lookup (`user_by_pk_orm`) — built from
config/sql.py and equivalence-tested against it (tests/accounts/test_fastpath.py).
Building and compiling each of these one-row SELECTs costs the ORM about 0.4 ms of
Python, running it through a cursor about 0.1 ms (bench/api_profile.py)."""
import functools

from django.contrib.sessions.models import Session
from django.db import connection
from django.utils import timezone

from config import sql

from .models import User


def session_row_orm(session_key: str | None) -> Session | None:
    """The live session row of `session_key`, as Django's database store reads it."""
    try:
        return Session.objects.get(session_key=session_key, expire_date__gt=timezone.now())
    except Session.DoesNotExist:
        return None


@functools.cache
def _session_sql(vendor: str) -> str:
    return (f"SELECT {sql.columns(Session)} FROM {sql.table(Session)} "
            f"WHERE {sql.column(Session, 'session_key')} = %s AND {sql.column(Session, 'expire_date')} > %s")


def session_row(session_key: str | None) -> Session | None:
    """session_row_orm in one cursor call."""
    if session_key is None:
        return None
    with connection.cursor() as cursor:
        cursor.execute(_session_sql(connection.vendor),
                       [session_key, sql.param(Session, "expire_date", timezone.now())])
        row = cursor.fetchone()
    return None if row is None else sql.instance(Session, row)


def user_by_pk_orm(pk) -> User | None:
    try:
        return User._default_manager.get(pk=pk)
    except User.DoesNotExist:
        return None


@functools.cache
def _user_sql(vendor: str) -> str:
    return f"SELECT {sql.columns(User)} FROM {sql.table(User)} WHERE {sql.column(User, 'pk')} = %s"


def user_by_pk(pk) -> User | None:
    """user_by_pk_orm in one cursor call."""
    with connection.cursor() as cursor:
        cursor.execute(_user_sql(connection.vendor), [sql.param(User, "pk", pk)])
        row = cursor.fetchone()
    return None if row is None else sql.instance(User, row)
