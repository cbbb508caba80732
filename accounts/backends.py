"""Password sign-in by email, and the backend IdP sign-ins are recorded with. Rule ids: docs/rules.md."""
from django.contrib.auth.backends import ModelBackend

from . import fastpath
from .models import normalize_email


class _AccountLookup(ModelBackend):
    """The account of every signed-in request, read by accounts.fastpath (ModelBackend's
    own lookup is its twin)."""

    def get_user(self, user_id):
        user = fastpath.user_by_pk(user_id)
        return user if user is not None and self.user_can_authenticate(user) else None


class EmailBackend(_AccountLookup):
    """Password sign-in by email, case-insensitively.

    Other apps may refuse a password sign-in for an account (an SSO-only
    administrator, E2) by registering a check in `accounts.policy`.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        username = normalize_email(username or kwargs.get("email") or "")
        if not username or password is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


class IdentityProviderBackend(_AccountLookup):
    """The backend recorded in sessions that an identity provider started (the SAML
    ACS validated the response and calls `login` with it). It never authenticates a
    password; keeping it apart lets password-only machinery (django-axes' attempt
    log and lock-out reset) tell the two kinds of sign-in apart."""

    def authenticate(self, request, **kwargs):
        return None
