"""Rules other apps add to password sign-in, without accounts importing them.

The SSO app registers a check that refuses a password for an account that
has signed in through its organization's IdP (SPEC E2). A check returns a
message for the user when it refuses, or None.
"""
from collections.abc import Callable

PasswordSigninCheck = Callable[["object"], "str | None"]
_password_signin_checks: list[PasswordSigninCheck] = []


def register_password_signin_check(check: PasswordSigninCheck) -> PasswordSigninCheck:
    if check not in _password_signin_checks:
        _password_signin_checks.append(check)
    return check


def password_signin_refusal(user) -> str | None:
    for check in _password_signin_checks:
        message = check(user)
        if message:
            return message
    return None
