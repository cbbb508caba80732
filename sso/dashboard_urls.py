from django.urls import path

from . import dashboard

app_name = "sso_dashboard"

urlpatterns = [
    path("", dashboard.authentication, name="authentication"),
]
