"""Rules other apps add to password sign-in and sign-out, without accounts importing them.

The SSO app registers a check that refuses a password for an account that
has signed in through its organization's IdP (E2). A check returns a
message for the user when it refuses, or None.

It also registers where signing out continues: a session an IdP made is signed
out at that IdP too (single logout, E13). Asked before the session ends, as
ending it forgets which IdP made it.

Organizations registers the invitation a sign-up is for: signing up on the way to
accepting an invitation (`next` is its link) locks the form to the invited address.

Rule ids: docs/rules.md.
"""
from dataclasses import dataclass

from config.hooks import Hooks

_password_signin_checks = Hooks()
register_password_signin_check = _password_signin_checks.register


def password_signin_refusal(user) -> str | None:
    return _password_signin_checks.first(user)


_sign_out_redirects = Hooks()
register_sign_out_redirect = _sign_out_redirects.register


def sign_out_redirect(request):
    """The response that continues signing out elsewhere (an HttpResponse), or None."""
    return _sign_out_redirects.first(request)


@dataclass(frozen=True)
class SignupInvitation:
    """The invitation a sign-up accepts: the address it was sent to, and by whom."""

    email: str
    organization: str


_signup_invitations = Hooks()
register_signup_invitation = _signup_invitations.register


def signup_invitation(next_path: str) -> SignupInvitation | None:
    """The still-valid invitation that `next_path` (where the sign-up continues) accepts, or None."""
    return _signup_invitations.first(next_path)
