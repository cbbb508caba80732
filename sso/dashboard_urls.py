from django.urls import path

from . import dashboard

app_name = "sso_dashboard"

urlpatterns = [
    path("", dashboard.authentication, name="authentication"),
    path("identities/<int:membership_id>/unlink/", dashboard.identity_unlink, name="identity_unlink"),
]
