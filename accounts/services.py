from django.db import IntegrityError, transaction

from orgs.errors import Conflict

from .models import User, normalize_email


@transaction.atomic
def user_create(*, email: str, password: str | None = None, first_name: str = "", last_name: str = "",
                is_staff: bool = False) -> User:
    email = normalize_email(email)
    if User.objects.filter(email=email).exists():
        raise Conflict(f"An account with the email {email} already exists.", code="email_taken")
    try:
        with transaction.atomic():
            return User.objects.create_user(email, password, first_name=first_name, last_name=last_name,
                                            is_staff=is_staff)
    except IntegrityError:
        raise Conflict(f"An account with the email {email} already exists.", code="email_taken") from None
