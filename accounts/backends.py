from django.contrib.auth.backends import ModelBackend

from .models import normalize_email


class EmailBackend(ModelBackend):
    """Password sign-in by email, case-insensitively.

    Other apps may refuse a password sign-in for an account (an SSO-only
    administrator, SPEC E2) by registering a check in `accounts.policy`.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        username = normalize_email(username or kwargs.get("email") or "")
        if not username or password is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)
