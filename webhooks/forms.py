"""Forms of Settings › Webhooks. Rule ids: docs/rules.md."""
from django import forms

from orgs import events


class WebhookForm(forms.Form):
    url = forms.CharField(label="Endpoint URL", max_length=2048,
                          help_text="https://, on a public address. Redirects are not followed.")
    description = forms.CharField(label="Description", max_length=200, required=False)
    event_types = forms.MultipleChoiceField(label="Events to send", widget=forms.CheckboxSelectMultiple, choices=())

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["event_types"].choices = [(name, name) for name in events.carried_types()]

    def arguments(self) -> dict:
        return {"url": self.cleaned_data["url"], "description": self.cleaned_data["description"],
                "event_types": self.cleaned_data["event_types"]}
