from django.apps import AppConfig


class SsoConfig(AppConfig):
    name = "sso"
    verbose_name = "Single sign-on"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # Registers the password sign-in refusal (E2) and the invitation block (E4).
        from . import policy  # noqa: F401
