from django import forms

from .models import slug_validator


class OrganizationForm(forms.Form):
    name = forms.CharField(max_length=100)
    slug = forms.CharField(max_length=50, validators=[slug_validator],
                           help_text="Used in URLs, e.g. /sso/<slug>/. Lowercase letters, digits and hyphens.")
