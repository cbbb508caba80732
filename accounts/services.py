from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction

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
