"""Settings › Authentication forms. Like orgs.forms they check the shape of the input
only; the rules (https, a valid certificate, two at most, the plan) live in sso.services
and come back as ServiceError. Text goes to the services as it was typed: they trim it.
Each form's `arguments()` are its service's keyword arguments."""
from datetime import timedelta

from django import forms

from .models import AttributePreset, GroupRule
from .services import SESSION_LIFETIME_HOURS

METADATA_FILE_MAX_BYTES = 1024 * 1024
TICKED = ("1", "true", "on", "yes")


class Tick(forms.CheckboxInput):
    """A checkbox ticked only by what a page or a script sends for yes (TICKED): Django's
    own widget counts any other text, “no” included, as ticked."""

    def value_from_datadict(self, data, files, name):
        return str(data.get(name, "")).lower() in TICKED


def text() -> forms.CharField:
    return forms.CharField(required=False, strip=False)


def confirmation(refusal: str) -> forms.BooleanField:
    """The “I understand” box of an action that removes or deletes; `refusal` when unticked."""
    return forms.BooleanField(widget=Tick, error_messages={"required": refusal})


class ActionForm(forms.Form):
    def arguments(self) -> dict:
        return {}


class EnableForm(ActionForm):
    confirm = confirmation("Tick the confirmation box: enabling removes every non-admin member.")


class MappingForm(ActionForm):
    """The attribute mapping sent with every way of configuring the IdP (sso/_mapping.html).
    A setting the request does not carry stays as it is."""

    attribute_preset = forms.ChoiceField(
        required=False, choices=[("", ""), *AttributePreset.choices],
        error_messages={"invalid_choice": "Unknown attribute preset “%(value)s”."})
    email_attribute = text()
    first_name_attribute = text()
    last_name_attribute = text()
    subject_attribute = text()
    allow_idp_initiated = forms.BooleanField(required=False, widget=Tick)

    CUSTOM_NAMES = ("email_attribute", "first_name_attribute", "last_name_attribute")

    def arguments(self) -> dict:
        data, sent = self.cleaned_data, self.data
        arguments = {}
        if data["attribute_preset"]:
            arguments["attribute_preset"] = data["attribute_preset"]
        if data["attribute_preset"] == AttributePreset.CUSTOM:
            arguments.update({name: data[name] for name in self.CUSTOM_NAMES if name in sent})
        # An unticked box sends nothing: the hidden marker says the box was on the page.
        if "allow_idp_initiated_present" in sent:
            arguments["allow_idp_initiated"] = data["allow_idp_initiated"]
        if "subject_attribute" in sent:
            arguments["subject_attribute"] = data["subject_attribute"]
        return arguments


class FieldsForm(MappingForm):
    """The IdP from its entity ID, SSO URL, logout URL and signing certificates; empty
    certificate boxes keep the current ones."""

    idp_entity_id = text()
    idp_sso_url = text()
    idp_slo_url = text()
    certificate = text()
    certificate_2 = text()

    def arguments(self) -> dict:
        data = self.cleaned_data
        certificates = [pem for pem in (data["certificate"], data["certificate_2"]) if pem.strip()]
        return {"idp_entity_id": data["idp_entity_id"], "idp_sso_url": data["idp_sso_url"],
                "idp_slo_url": data["idp_slo_url"], "certificates": certificates or None, **super().arguments()}


class MetadataForm(MappingForm):
    """The IdP from its metadata XML, pasted or uploaded (the upload wins)."""

    metadata_xml = text()
    metadata_file = forms.FileField(required=False, allow_empty_file=True)

    def clean_metadata_file(self) -> str | None:
        upload = self.cleaned_data["metadata_file"]
        if upload is None:
            return None
        if upload.size > METADATA_FILE_MAX_BYTES:
            raise forms.ValidationError("The metadata file is larger than 1 MiB.")
        try:
            return upload.read().decode("utf-8")
        except UnicodeDecodeError:
            raise forms.ValidationError("The metadata file is not UTF-8 XML.") from None

    def arguments(self) -> dict:
        data = self.cleaned_data
        xml = data["metadata_file"] if data["metadata_file"] is not None else data["metadata_xml"]
        return {"xml": xml, **super().arguments()}


class MetadataURLForm(MappingForm):
    metadata_url = text()

    def arguments(self) -> dict:
        return {"url": self.cleaned_data["metadata_url"], **super().arguments()}


class RoleManagementForm(ActionForm):
    """DS4: "Manage roles through identity provider" and the attribute names it reads; an
    empty name keeps the current one."""

    manage_roles_via_idp = forms.BooleanField(required=False, widget=Tick)
    role_attribute = text()
    groups_attribute = text()

    def arguments(self) -> dict:
        data = self.cleaned_data
        return {"value": data["manage_roles_via_idp"], "role_attribute": data["role_attribute"],
                "groups_attribute": data["groups_attribute"]}


class CertificateForm(ActionForm):
    """The IdP's next signing certificate (rotation)."""

    certificate = text()

    def arguments(self) -> dict:
        return {"pem": self.cleaned_data["certificate"]}


class DomainForm(ActionForm):
    domain = text()

    def arguments(self) -> dict:
        return {"domain": self.cleaned_data["domain"]}


class GroupRuleForm(ActionForm):
    """A group rule (sso.group_rules): the IdP group, and what its members get here. The
    team by its id; the service checks it is one of this organization's own teams."""

    group_name = text()
    role = forms.ChoiceField(required=False, choices=GroupRule.Role.choices,
                             error_messages={"invalid_choice": "Unknown role “%(value)s”."})
    database_admin = forms.BooleanField(required=False, widget=Tick)
    team = forms.IntegerField(required=False, min_value=1, max_value=2**63 - 1,
                              error_messages=dict.fromkeys(("invalid", "min_value", "max_value"), "Choose a team."))

    def arguments(self) -> dict:
        data = self.cleaned_data
        return {"group_name": data["group_name"], "role": data["role"], "database_admin": data["database_admin"],
                "team_id": data["team"]}


_LIFETIME_REFUSAL = (f"Give the SSO session lifetime in whole hours, {SESSION_LIFETIME_HOURS[0]} to "
                     f"{SESSION_LIFETIME_HOURS[-1]}.")


class SessionLifetimeForm(ActionForm):
    """E13's bounds, checked here: timedelta overflows on a huge number of hours."""

    session_lifetime_hours = forms.IntegerField(
        min_value=SESSION_LIFETIME_HOURS[0], max_value=SESSION_LIFETIME_HOURS[-1],
        error_messages=dict.fromkeys(("required", "invalid", "min_value", "max_value"), _LIFETIME_REFUSAL))

    def arguments(self) -> dict:
        return {"session_lifetime": timedelta(hours=self.cleaned_data["session_lifetime_hours"])}
