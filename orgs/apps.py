"""The orgs app; connects its receivers. Rule ids: docs/rules.md."""
from django.apps import AppConfig


class OrgsConfig(AppConfig):
    name = "orgs"
    verbose_name = "Organizations"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # Registers the invitation a sign-up accepts (accounts.policy).
        from . import policy  # noqa: F401

        # E14: claiming an unclaimed account ends every membership a stranger made for it.
        from accounts.signals import account_claimed

        from .receivers import end_memberships_of_claimed_account

        account_claimed.connect(end_memberships_of_claimed_account, dispatch_uid="orgs.end_memberships_on_claim")
