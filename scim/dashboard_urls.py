"""Settings › Directory Sync: /orgs/<org>/settings/directory-sync/."""
from django.urls import path

from . import views

app_name = "scim_dashboard"

urlpatterns = [
    path("", views.directory_sync_page, name="directory_sync"),
]
