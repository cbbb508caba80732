"""A small world for every test: two organizations, an admin and a member in the first,
an outsider who administers the second."""
import pytest
from django.test import Client

from accounts.models import User
from orgs.models import Membership, Organization, Plan
from orgs.services import membership_add, organization_create

PASSWORD = "correct horse battery staple"


@pytest.fixture(autouse=True)
def _fast_hashing_and_fresh_cache(settings):
    # Argon2 is deliberately slow; tests that do not test hashing use a fast hasher.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    from django.core.cache import cache

    cache.clear()


def make_user(email: str, password: str | None = PASSWORD, **fields) -> User:
    return User.objects.create_user(email, password, **fields)


@pytest.fixture
def admin_user(db) -> User:
    return make_user("ada@acme.test", first_name="Ada", last_name="Admin")


@pytest.fixture
def member_user(db) -> User:
    return make_user("max@acme.test", first_name="Max", last_name="Member")


@pytest.fixture
def outsider(db) -> User:
    return make_user("olga@other.test", first_name="Olga", last_name="Outsider")


@pytest.fixture
def org(admin_user) -> Organization:
    return organization_create(slug="acme", name="Acme", creator=admin_user, plan=Plan.ENTERPRISE)


@pytest.fixture
def member(org, member_user) -> Membership:
    return membership_add(org=org, user=member_user, role=Membership.Role.MEMBER, actor=None)


@pytest.fixture
def admin_membership(org, admin_user) -> Membership:
    return Membership.objects.get(org=org, user=admin_user)


@pytest.fixture
def other_org(outsider) -> Organization:
    return organization_create(slug="other", name="Other Inc", creator=outsider)


def client_for(user: User) -> Client:
    client = Client()
    client.force_login(user, backend="accounts.backends.EmailBackend")
    return client


@pytest.fixture
def admin_client(admin_user) -> Client:
    return client_for(admin_user)


@pytest.fixture
def member_client(member_user) -> Client:
    return client_for(member_user)


@pytest.fixture
def outsider_client(outsider) -> Client:
    return client_for(outsider)
