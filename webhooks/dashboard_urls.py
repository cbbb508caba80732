"""Settings › Webhooks: /orgs/<org>/settings/webhooks/, and one URL per action."""
from django.urls import path

from . import dashboard

app_name = "webhooks_dashboard"

urlpatterns = [
    path("", dashboard.webhooks_page, name="webhooks"),
    path("add/", dashboard.webhook_add, name="webhook_add"),
    path("<int:endpoint_id>/", dashboard.webhook_page, name="webhook"),
    path("<int:endpoint_id>/edit/", dashboard.webhook_edit, name="webhook_edit"),
    path("<int:endpoint_id>/pause/", dashboard.webhook_pause, name="webhook_pause"),
    path("<int:endpoint_id>/resume/", dashboard.webhook_resume, name="webhook_resume"),
    path("<int:endpoint_id>/rotate-secret/", dashboard.webhook_rotate_secret, name="webhook_rotate_secret"),
    path("<int:endpoint_id>/delete/", dashboard.webhook_delete, name="webhook_delete"),
    path("<int:endpoint_id>/deliveries/<int:delivery_id>/redeliver/", dashboard.webhook_redeliver,
         name="webhook_redeliver"),
]
