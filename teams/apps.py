from django.apps import AppConfig


class TeamsConfig(AppConfig):
    name = "teams"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # Registers the members page's team column (orgs.policy member details).
        from . import policy  # noqa: F401
