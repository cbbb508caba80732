"""Rules other apps add to password sign-in, without accounts importing them.

The SSO app registers a check that refuses a password for an account that
has signed in through its organization's IdP (SPEC E2). A check returns a
message for the user when it refuses, or None.
"""
from config.hooks import Hooks

_password_signin_checks = Hooks()
register_password_signin_check = _password_signin_checks.register


def password_signin_refusal(user) -> str | None:
    return _password_signin_checks.first(user)
