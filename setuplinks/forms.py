"""The administrator's form of a new setup link: its shape only; the bounds (1 hour to
30 days, the note's length, the plan) are setuplinks.services' rules."""
from datetime import timedelta

from django import forms

from sso.forms import ActionForm, Tick

from .models import NOTE_MAX

LIFETIME_HOURS_DEFAULT = 7 * 24
_LIFETIME_REFUSAL = "Give the link's lifetime in whole hours, 1 to 720 (30 days)."


class SetupLinkForm(ActionForm):
    # Wider than the rule, so that the service's refusal is the one an edge shows; bounded,
    # so that timedelta cannot overflow.
    lifetime_hours = forms.IntegerField(min_value=0, max_value=10**6, error_messages=dict.fromkeys(
        ("required", "invalid", "min_value", "max_value"), _LIFETIME_REFUSAL))
    note = forms.CharField(required=False, strip=False, max_length=NOTE_MAX * 2)
    allow_directory_sync = forms.BooleanField(required=False, widget=Tick)

    def arguments(self) -> dict:
        data = self.cleaned_data
        return {"lifetime": timedelta(hours=data["lifetime_hours"]), "note": data["note"],
                "allow_directory_sync": data["allow_directory_sync"]}
