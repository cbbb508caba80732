"""Settings › Directory Sync forms: the shape of the input; the rules (SSO first, the
role attribute's name) live in scim.services."""
from django import forms

from sso.forms import ActionForm, Tick, confirmation, text


class DirectoryEnableForm(ActionForm):
    confirm = confirmation("Confirm that the organization's existing teams will be deleted.")


class RolesForm(ActionForm):
    """DS4: roles from the IdP, and the user attribute that carries them."""

    manage_roles_via_idp = forms.BooleanField(required=False, widget=Tick)
    role_attribute = text()

    def arguments(self) -> dict:
        data = self.cleaned_data
        return {"value": data["manage_roles_via_idp"], "role_attribute": data["role_attribute"]}
