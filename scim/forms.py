"""Settings › Directory Sync forms: the shape of the input; the rules (SSO first) live in
scim.services."""
from sso.forms import ActionForm, confirmation


class DirectoryEnableForm(ActionForm):
    confirm = confirmation("Confirm that the organization's existing teams will be deleted.")

