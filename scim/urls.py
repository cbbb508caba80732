"""SCIM base: /scim/v2/<org>/ (§3). Trailing slashes are optional: IdPs differ. Rule ids: docs/rules.md."""
from django.urls import re_path

from . import views

app_name = "scim"

urlpatterns = [
    re_path(r"^ServiceProviderConfig/?$", views.service_provider_config, name="service_provider_config"),
    re_path(r"^ResourceTypes/?$", views.resource_types, name="resource_types"),
    re_path(r"^ResourceTypes/(?P<resource_id>[^/]+)/?$", views.resource_types, name="resource_type"),
    re_path(r"^Schemas/?$", views.schema_list, name="schemas"),
    re_path(r"^Schemas/(?P<resource_id>[^/]+)/?$", views.schema_list, name="schema"),
    re_path(r"^Users/?$", views.users, name="users"),
    re_path(r"^Users/\.search/?$", views.users_search, name="users_search"),
    re_path(r"^Users/(?P<resource_id>[^/]+)/?$", views.user_detail, name="user"),
    re_path(r"^Groups/?$", views.groups, name="groups"),
    re_path(r"^Groups/\.search/?$", views.groups_search, name="groups_search"),
    re_path(r"^Groups/(?P<resource_id>[^/]+)/?$", views.group_detail, name="group"),
    re_path(r"^\.search/?$", views.root_search, name="search"),
    # [\s\S], not ".": a path holding a newline (%0A) must get SCIM's 404 too, not the HTML page.
    re_path(r"^(?P<rest>[\s\S]*)$", views.not_found_view, name="not_found"),
]
