from django.apps import AppConfig


class OrgsConfig(AppConfig):
    name = "orgs"
    verbose_name = "Organizations"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # E14: claiming an unclaimed account ends every membership a stranger made for it.
        from accounts.signals import account_claimed

        from .receivers import end_memberships_of_claimed_account

        account_claimed.connect(end_memberships_of_claimed_account, dispatch_uid="orgs.end_memberships_on_claim")
