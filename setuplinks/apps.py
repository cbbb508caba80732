"""The setuplinks app: above scim (it calls sso's and scim's services), below api."""
from django.apps import AppConfig


class SetupLinksConfig(AppConfig):
    name = "setuplinks"
    verbose_name = "Setup links"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # The audit event names; the hook by which the ACS learns a link's test is still live.
        from . import events, policy  # noqa: F401  (importing them registers them)
        from sso.signals import connection_tested

        from .receivers import keep_last_test

        # The result of a test started through a link, for the link's page.
        connection_tested.connect(keep_last_test, dispatch_uid="setuplinks.keep_last_test")
