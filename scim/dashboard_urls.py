"""Settings › Directory Sync: /orgs/<org>/settings/directory-sync/ (its POST enables), and one URL per action."""
from django.urls import path

from . import dashboard

app_name = "scim_dashboard"

urlpatterns = [
    path("", dashboard.directory_sync, name="directory_sync"),
    path("rotate-token/", dashboard.rotate_token, name="rotate_token"),
    path("disable/", dashboard.disable, name="disable"),
]
