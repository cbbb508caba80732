from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "api"
    verbose_name = "JSON API"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # An outage (PostgreSQL) answers the API's JSON error, 503 (config.faults).
        from django.http import JsonResponse

        from config.faults import register_surface

        from .errors import error_body

        register_surface("/api/", lambda message: JsonResponse(error_body("unavailable", message), status=503))
