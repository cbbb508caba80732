"""Every state change to accounts: creating, verifying the address, claiming, emailed links. Rule ids: docs/rules.md."""
from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from config import sql
from config.enqueue import RUN_HERE, enqueue_on_commit
from config.errors import Conflict, ServiceError

from .models import User, normalize_email
from .signals import account_claimed
from .tasks import send_email_link
from .tokens import email_link_wanted


def clean_email(email: str) -> str:
    """Normalized and valid, or a ServiceError (400) that says so."""
    email = normalize_email(email)
    try:
        if len(email) > 254:
            raise ValidationError("too long")
        validate_email(email)
    except ValidationError:
        raise ServiceError("Enter a valid email address.", code="invalid_email") from None
    return email


@transaction.atomic
def user_create(*, email: str, password: str | None = None, first_name: str = "", last_name: str = "",
                is_staff: bool = False, email_verified: bool = False) -> User:
    """`email_verified`: the caller vouches for the address (the operator's create_user, a
    sign-up through an invitation mailed to it); otherwise it waits for its link (E14)."""
    email = clean_email(email)
    if User.objects.filter(email=email).exists():
        raise Conflict(f"An account with the email {email} already exists.", code="email_taken")
    try:
        with transaction.atomic():
            return User.objects.create_user(email, password, first_name=first_name, last_name=last_name,
                                            is_staff=is_staff,
                                            email_verified_at=timezone.now() if email_verified else None)
    except IntegrityError:
        raise Conflict(f"An account with the email {email} already exists.", code="email_taken") from None


@transaction.atomic
def user_verify_email(*, user: User) -> User:
    """E14: the owner proved they read mail at the address (the verification link, or a
    password reset link that set a password). An unclaimed account is never merely
    verified: its owner claims it (user_claim), which ends the ties a stranger made."""
    user = User.objects.select_for_update().get(pk=user.pk)
    if not user.claimed:
        raise ServiceError("This account must be claimed first: ask for a password reset for its address.",
                           code="account_unclaimed")
    if user.email_verified_at is None:
        user.email_verified_at = timezone.now()
        user.save(update_fields=["email_verified_at"])
    return user


@transaction.atomic
def user_claim(*, user: User) -> User:
    """E14, the one way past E11: the owner of the address takes over an account an
    organization's IdP or directory made. Every tie made before ends first, in this
    transaction (receivers of `account_claimed`), then the account is claimed and its
    address verified; its sessions end with it (User.get_session_auth_hash). Setting a
    password is the caller's next step.

    The same holds for a claimed account whose address was never verified (a sign-up
    that never followed its link): whoever signed up was not shown to own the address,
    so when its owner proves it (an emailed SSO link, their organization's verified
    domain) the ties end too, and so does that sign-up's password, with its sessions."""
    user = User.objects.select_for_update().get(pk=user.pk)
    if user.claimed and user.email_verified_at is not None:
        return user
    account_claimed.send(sender=User, user=user)
    fields = ["claimed", "email_verified_at"]
    if user.claimed:
        user.set_unusable_password()
        fields.append("password")
    user.claimed = True
    user.email_verified_at = timezone.now()
    user.save(update_fields=fields)
    return user


def user_email_link_send(*, user: User, purpose: str, next_path: str = "") -> bool:
    """Mail a verification or claim link (accounts.tokens) after commit; at most one per
    account and purpose every EMAIL_LINK_RESEND_SECONDS, so the form that asks cannot
    flood a mailbox. False when none is sent: too soon, or none is wanted (an address
    already verified, an account already claimed)."""
    if not email_link_wanted(user, purpose):
        return False
    if not cache.add(f"accounts:email_link:{purpose}:{user.pk}", 1, timeout=settings.EMAIL_LINK_RESEND_SECONDS):
        return False
    user_id = user.pk
    enqueue_on_commit(send_email_link, if_unqueued=RUN_HERE,
                      kwargs={"user_id": user_id, "purpose": purpose, "next_path": next_path})
    return True


def last_login_sql(user: User) -> tuple[str, list]:
    """The UPDATE that records `user.last_login`, for a service that writes it with other
    rows in one statement (config.sql.write_together); the sign-in's login() then does
    not write it again (last_login_record)."""
    user.last_login_written = user.last_login
    return sql.update_sql(user, ["last_login"])


def last_login_record(sender, user: User, **kwargs) -> None:
    """user_logged_in receiver, instead of Django's update_last_login: the same UPDATE of
    one column, without the ORM's cost per statement; none when this sign-in's service
    wrote it already (last_login_sql; once: a later sign-in of the same object records)."""
    written = user.__dict__.pop("last_login_written", None)
    if written is not None and written == user.last_login:
        return
    user.last_login = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(*sql.update_sql(user, ["last_login"]))
