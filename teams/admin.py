from django.contrib import admin

from orgs.admin import ReadOnlyAdmin

from .models import Team, TeamMember


@admin.register(Team)
class TeamAdmin(ReadOnlyAdmin):
    list_display = ("name", "org", "directory_managed", "external_id", "created_at")
    list_filter = ("directory_managed",)
    search_fields = ("name", "org__slug")
    list_select_related = ("org",)


@admin.register(TeamMember)
class TeamMemberAdmin(ReadOnlyAdmin):
    list_display = ("team", "membership", "org", "created_at")
    search_fields = ("team__name", "membership__user__email", "org__slug")
    list_select_related = ("team", "membership", "org")
