"""Dashboard forms: they only check the shape of the input. The rules (last
administrator, duplicates, directory-managed rows) live in orgs.services and
come back as ServiceError, which the views show next to the form."""
import datetime

from django import forms
from django.utils import timezone

from .audit import event_names
from .models import DatabasePassword, Membership, slug_validator


class OrganizationForm(forms.Form):
    name = forms.CharField(max_length=100)
    slug = forms.CharField(max_length=50, validators=[slug_validator],
                           help_text="Used in URLs, e.g. /sso/<slug>/. Lowercase letters, digits and hyphens.")


class InvitationForm(forms.Form):
    email = forms.EmailField(max_length=254, widget=forms.EmailInput(attrs={"placeholder": "name@example.com"}))
    role = forms.ChoiceField(choices=Membership.Role.choices, initial=Membership.Role.MEMBER)


class RoleForm(forms.Form):
    role = forms.ChoiceField(choices=Membership.Role.choices)


class DatabaseAdminForm(forms.Form):
    value = forms.TypedChoiceField(choices=[("1", "grant"), ("0", "revoke")], coerce=lambda v: v == "1")


class DatabaseForm(forms.Form):
    name = forms.CharField(max_length=64, validators=[slug_validator],
                           help_text="Lowercase letters, digits and hyphens.")


class DatabasePasswordForm(forms.Form):
    name = forms.CharField(max_length=100)
    access = forms.ChoiceField(choices=DatabasePassword.Access.choices, initial=DatabasePassword.Access.READ_ONLY)


class ServiceTokenForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="What uses this token, e.g. “deploy script”.")


def _event_choices():
    names = event_names()
    groups = sorted({name.split(".", 1)[0] + "." for name in names if "." in name})
    return (
        [("", "All events")]
        + [(group, f"{group}* (all)") for group in groups]
        + [(name, name) for name in names]
    )


class AuditFilterForm(forms.Form):
    event = forms.ChoiceField(required=False)
    actor = forms.CharField(required=False, max_length=254, label="Actor email",
                            widget=forms.TextInput(attrs={"placeholder": "ada@example.com"}))
    since = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}),
                            help_text="Inclusive.")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["event"].choices = _event_choices()

    def clean(self):
        cleaned = super().clean()
        since, until = cleaned.get("since"), cleaned.get("until")
        if since and until and since > until:
            raise forms.ValidationError("“Since” must be on or before “until”.")
        return cleaned

    def filters(self) -> dict:
        """Selector arguments; dates are whole UTC days, `until` inclusive."""
        data = self.cleaned_data
        tz = datetime.timezone.utc

        def start_of(day):
            return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min), tz)

        return {
            "event": data.get("event") or None,
            "actor": data.get("actor") or None,
            "since": start_of(data["since"]) if data.get("since") else None,
            "until": start_of(data["until"] + datetime.timedelta(days=1)) if data.get("until") else None,
        }


class AuditExportForm(AuditFilterForm):
    """The audit log page's filters, and the file format to export them in."""

    format = forms.ChoiceField(choices=[("csv", "CSV"), ("ndjson", "NDJSON")])
