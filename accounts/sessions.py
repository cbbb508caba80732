"""Django's database sessions (SESSION_ENGINE), with a new session written once.

Stock, a sign-in's new session costs a SELECT (is the random key taken?), an INSERT
in its own transaction when login() makes the key, and an UPDATE in another when the
response is sent: seven round trips and three ORM statements on every SAML sign-in.
Here the key is only reserved when login() makes it; the response's save writes the
row with one INSERT, whose primary key settles a (practically impossible) collision:
a new key is drawn and the INSERT retried. Loading reads the row through
accounts.fastpath.session_row (Django's own lookup is its twin); updating, deleting,
expiry and `clearsessions` are Django's own.
"""
import base64
import secrets

from django.contrib.sessions.backends import db
from django.contrib.sessions.backends.base import CreateError
from django.db import IntegrityError, connection, transaction

from config import sql

from . import fastpath


class SessionStore(db.SessionStore):
    _unwritten = False
    _companions: tuple = ()

    def _get_session_from_db(self):
        row = fastpath.session_row(self.session_key)
        if row is None:
            self._session_key = None  # as Django's own lookup leaves a key that found nothing
        return row

    def write_with_new_session(self, rows) -> None:
        """Have `rows(session_key)` — writes that name this session (a list of (sql, params))
        — written together with the session's row: in the same statement as a new session's
        INSERT (so a sign-in pays no round trip for them, and a key collision, retried with
        a new key, rebuilds them), or right after an update of an existing session."""
        self._companions = (*self._companions, rows)
        self.modified = True

    def _get_new_session_key(self) -> str:
        # No exists() query: the INSERT's primary key decides (see _insert). 32 characters
        # of lowercase base32 (160 random bits), all among Django's VALID_KEY_CHARS;
        # get_random_string draws them one system call per character.
        return base64.b32encode(secrets.token_bytes(20)).decode().lower()

    def create(self) -> None:
        self._get_session(no_load=True)  # as the stock create() leaves it: {} unless data is there
        self._session_key = self._get_new_session_key()
        self._unwritten = True
        self.modified = True

    def save(self, must_create: bool = False) -> None:
        if self.session_key is None:
            self.create()
        if not (self._unwritten or must_create):
            super().save(must_create=False)
            self._write_companions([])
            return
        while True:
            try:
                self._insert()
            except CreateError:
                if not self._unwritten:
                    raise  # the caller chose this key (must_create): theirs to handle
                self._session_key = self._get_new_session_key()
                continue
            self._unwritten = False
            return

    def _insert(self) -> None:
        row = self.create_model_instance(self._get_session(no_load=True))
        try:
            self._write_companions([sql.insert_sql(row)])
        except IntegrityError:
            raise CreateError from None

    def _write_companions(self, session_writes: list) -> None:
        """The companion writes (write_with_new_session) and then `session_writes`, as one
        atomic unit (config.sql.write_together), or the session's writes alone."""
        companions = [write for rows in self._companions for write in rows(self.session_key)]
        if companions and connection.in_atomic_block:
            with transaction.atomic():  # a savepoint: a key collision leaves the caller's transaction usable
                sql.write_together(companions + session_writes)
        elif companions:
            sql.write_together(companions + session_writes)  # one statement on PostgreSQL: atomic by itself
        elif session_writes:
            sql.execute_alone(*session_writes[0])
        self._companions = ()
