from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from config import sql
from orgs.errors import Conflict, ServiceError

from .models import User, normalize_email


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
                is_staff: bool = False) -> User:
    email = clean_email(email)
    if User.objects.filter(email=email).exists():
        raise Conflict(f"An account with the email {email} already exists.", code="email_taken")
    try:
        with transaction.atomic():
            return User.objects.create_user(email, password, first_name=first_name, last_name=last_name,
                                            is_staff=is_staff)
    except IntegrityError:
        raise Conflict(f"An account with the email {email} already exists.", code="email_taken") from None


def _last_login_update(user: User) -> tuple[str, list]:
    field = User._meta.get_field("last_login")
    return (f"UPDATE {sql.table(User)} SET {connection.ops.quote_name(field.column)} = %s WHERE id = %s",
            [field.get_db_prep_value(user.last_login, connection), user.pk])


def last_login_sql(user: User) -> tuple[str, list]:
    """The UPDATE that records `user.last_login`, for a service that writes it with other
    rows in one statement (config.sql.write_together); the sign-in's login() then does
    not write it again (last_login_record)."""
    user.last_login_written = user.last_login
    return _last_login_update(user)


def last_login_record(sender, user: User, **kwargs) -> None:
    """user_logged_in receiver, instead of Django's update_last_login: the same UPDATE of
    one column, without the ORM's cost per statement; none when this sign-in's service
    wrote it already (last_login_sql; once: a later sign-in of the same object records)."""
    written = user.__dict__.pop("last_login_written", None)
    if written is not None and written == user.last_login:
        return
    user.last_login = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(*_last_login_update(user))
