from django.core.management.base import CommandError

from accounts.models import User, normalize_email
from orgs.models import Organization


def get_org(slug: str) -> Organization:
    org = Organization.objects.filter(slug=slug.strip().lower()).first()
    if org is None:
        raise CommandError(f"No organization with the slug “{slug}”.")
    return org


def get_user(email: str) -> User:
    user = User.objects.filter(email=normalize_email(email)).first()
    if user is None:
        raise CommandError(f"No account with the email “{email}”. Create it first with create_user.")
    return user
