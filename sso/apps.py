"""The sso app; registers its hooks and receivers. Rule ids: docs/rules.md."""
from django.apps import AppConfig


class SsoConfig(AppConfig):
    name = "sso"
    verbose_name = "Single sign-on"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # Registers the password sign-in refusal (E2), the invitation block (E4), the
        # access block for members the enable removes (E1), the plan-change block (D3) and
        # the audit event names.
        from . import events, policy  # noqa: F401

        # E14: a claim ends the ties an IdP made (after orgs ends the memberships).
        from accounts.signals import account_claimed

        from .receivers import end_sso_ties_of_claimed_account

        account_claimed.connect(end_sso_ties_of_claimed_account, dispatch_uid="sso.end_ties_of_claimed_account")
