"""Included by orgs/urls.py under /orgs/<org_slug>/settings/teams/ (names stay in the "orgs" namespace
with a "team" prefix, so templates reverse them like every other settings page)."""
from django.urls import path

from . import views

urlpatterns = [
    path("", views.teams, name="teams"),
    path("<int:team_id>/", views.team_detail, name="team"),
    path("<int:team_id>/rename/", views.team_rename_view, name="team_rename"),
    path("<int:team_id>/delete/", views.team_delete_view, name="team_delete"),
    path("<int:team_id>/members/<int:membership_id>/remove/", views.team_member_remove_view,
         name="team_member_remove"),
]
