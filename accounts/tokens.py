"""One-time links mailed to an account's address (E14): VERIFY proves the address,
CLAIM lets its owner claim an account an organization's IdP or directory made.

A token is signed with SECRET_KEY (django.core.signing) and stored nowhere. It names
the account and carries a digest of the state the link changes (the address, whether
it is verified, whether the account is claimed), so it stops working once used or
once the address changes; it expires after EMAIL_LINK_TTL_DAYS. Each purpose has its
own salt: a verification link never claims.

Rule ids: docs/rules.md.
"""
from datetime import timedelta
from enum import StrEnum

from django.conf import settings
from django.core import signing
from django.utils.crypto import constant_time_compare, salted_hmac

from .models import User

class EmailLinkPurpose(StrEnum):
    """What a link does; its value is in the token's salt and the email task's arguments."""

    VERIFY = "verify"
    CLAIM = "claim"


def _salt(purpose: str) -> str:
    return f"accounts.email_link.{EmailLinkPurpose(purpose)}"  # ValueError for any other purpose


def _state(user: User, purpose: str) -> str:
    state = f"{user.pk}|{user.email}|{user.email_verified_at}|{user.claimed}"
    return salted_hmac(_salt(purpose), state, algorithm="sha256").hexdigest()[:32]


def email_link_wanted(user: User, purpose: str) -> bool:
    """A verification link only for a claimed account whose address is not verified yet
    (an unclaimed one is claimed instead: verifying it would keep the stranger's ties);
    a claim link only for an unclaimed account."""
    if purpose == EmailLinkPurpose.VERIFY:
        return user.claimed and user.email_verified_at is None
    return not user.claimed


def email_link_token(user: User, purpose: str) -> str:
    return signing.dumps({"u": user.pk, "s": _state(user, purpose)}, salt=_salt(purpose))


def email_link_user(token: str, purpose: str) -> User | None:
    """The account a valid, unexpired, unused link names; None for any other token."""
    try:
        data = signing.loads(token or "", salt=_salt(purpose),
                             max_age=timedelta(days=settings.EMAIL_LINK_TTL_DAYS))
    except signing.BadSignature:  # tampered or expired (SignatureExpired is one)
        return None
    if not isinstance(data, dict) or not isinstance(data.get("u"), int) or not isinstance(data.get("s"), str):
        return None
    user = User.objects.filter(pk=data["u"]).first()
    if (user is None or not constant_time_compare(_state(user, purpose), data["s"])
            or not email_link_wanted(user, purpose)):
        return None
    return user
