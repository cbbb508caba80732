from django.apps import AppConfig


class DemoConfig(AppConfig):
    """The `demo` command: a demo organization composed from every app's services
    (the top layer: nothing imports it)."""

    name = "demo"
