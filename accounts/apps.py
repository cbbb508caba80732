from django.apps import AppConfig

IDENTITY_PROVIDER_BACKEND = "accounts.backends.IdentityProviderBackend"


class AccountsConfig(AppConfig):
    name = "accounts"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # django-axes counts PASSWORD sign-in attempts. A sign-in through an identity
        # provider is not one: it must not reset a password lock-out, and logging it
        # cost four queries per SSO sign-in. Password sign-ins keep axes' handler.
        from axes import signals as axes_signals
        from django.contrib.auth import BACKEND_SESSION_KEY
        from django.contrib.auth.signals import user_logged_in

        user_logged_in.disconnect(axes_signals.handle_user_logged_in)

        def axes_on_password_sign_in(sender, request=None, user=None, **kwargs):
            # login() records the backend in the session before sending the signal.
            session = getattr(request, "session", None)
            if session is None or session.get(BACKEND_SESSION_KEY) != IDENTITY_PROVIDER_BACKEND:
                axes_signals.handle_user_logged_in(sender, request=request, user=user, **kwargs)

        user_logged_in.connect(axes_on_password_sign_in, weak=False, dispatch_uid="gatehouse.axes_password_only")

        # Django's update_last_login saves through the ORM (about 1 ms of Python per
        # sign-in on a slow core); the same UPDATE, written directly.
        from django.contrib.auth.models import update_last_login

        from .services import last_login_record

        user_logged_in.disconnect(update_last_login, dispatch_uid="update_last_login")
        user_logged_in.connect(last_login_record, dispatch_uid="gatehouse.last_login")
