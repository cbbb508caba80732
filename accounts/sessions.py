"""Django's database sessions (SESSION_ENGINE), with a new session written once.

Stock, a sign-in's new session costs a SELECT (is the random key taken?), an INSERT
in its own transaction when login() makes the key, and an UPDATE in another when the
response is sent: seven round trips and three ORM statements on every SAML sign-in.
Here the key is only reserved when login() makes it; the response's save writes the
row with one INSERT, whose primary key settles a (practically impossible) collision:
a new key is drawn and the INSERT retried. Loading, updating, deleting, expiry and
`clearsessions` are Django's own.
"""
import base64
import secrets

from django.contrib.sessions.backends import db
from django.contrib.sessions.backends.base import CreateError
from django.db import IntegrityError

from config import sql


class SessionStore(db.SessionStore):
    _unwritten = False

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
            return super().save(must_create=False)
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
        statement, params = sql.insert_sql(row)
        try:
            sql.execute_alone(statement, params)
        except IntegrityError:
            raise CreateError from None
