"""The account: one per email address, whatever its case. Rule ids: docs/rules.md."""
from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.crypto import salted_hmac


def normalize_email(email: str) -> str:
    """Emails are one account each, whatever their case: stored lowercased and trimmed."""
    return (email or "").strip().lower()


class UserManager(BaseUserManager):
    use_in_migrations = True

    def get_by_natural_key(self, username):
        return self.get(email=normalize_email(username))

    def create_user(self, email, password=None, **fields):
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=normalize_email(email), **fields)
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.save(using=self._db)
        return user

    def create_superuser(self, email, password=None, **fields):
        fields.setdefault("is_staff", True)
        fields.setdefault("is_superuser", True)
        return self.create_user(email, password, **fields)


class User(AbstractBaseUser, PermissionsMixin):
    """An account. The email is the login; an account may have no usable password
    (created through SSO just-in-time, or invited and never set one)."""

    email = models.EmailField(max_length=254, unique=True)
    first_name = models.CharField(max_length=150, blank=True)
    last_name = models.CharField(max_length=150, blank=True)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False)
    date_joined = models.DateTimeField(default=timezone.now)
    # E14: when the owner proved they control the address (the sign-up link, a password
    # reset, a claim, an emailed SSO link confirmation, or an organization that verified
    # the address's domain). Until then no IdP links it, no directory attaches it and it
    # accepts no invitation.
    email_verified_at = models.DateTimeField(null=True, blank=True)
    # E14: False for an account an organization's IdP or directory made for an address
    # in a domain that organization did not verify. It is usable only through that
    # organization's IdP; its owner claims it (sign-up or password reset, by an emailed
    # link), which ends every tie made before, and only then sets a password.
    claimed = models.BooleanField(default=True)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        constraints = [models.UniqueConstraint(Lower("email"), name="accounts_user_email_ci_unique")]

    def save(self, *args, **kwargs):
        self.email = normalize_email(self.email)
        super().save(*args, **kwargs)

    def __str__(self) -> str:
        return self.email

    # A session holds this hash from its sign-in and ends when it no longer matches. An
    # unclaimed account's sessions were made by a stranger organization's IdP: claiming
    # it (claimed becomes True) changes the hash and so ends them all, without a search
    # through every session. A claimed account's hash is Django's own.
    def get_session_auth_hash(self):
        return self._while_unclaimed(super().get_session_auth_hash())

    def get_session_auth_fallback_hash(self):
        for fallback in super().get_session_auth_fallback_hash():
            yield self._while_unclaimed(fallback)

    def _while_unclaimed(self, session_hash: str) -> str:
        if self.claimed:
            return session_hash
        return salted_hmac("accounts.User.unclaimed_session", session_hash, algorithm="sha256").hexdigest()

    @property
    def display_name(self) -> str:
        full = f"{self.first_name} {self.last_name}".strip()
        return full or self.email

    def get_full_name(self) -> str:
        return self.display_name

    def get_short_name(self) -> str:
        return self.first_name or self.email
