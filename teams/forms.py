from django import forms

# Above this many candidates the team page asks for an email instead of listing everyone.
MEMBER_SELECT_LIMIT = 500


class TeamForm(forms.Form):
    name = forms.CharField(max_length=100, label="Team name")


class TeamMemberAddForm(forms.Form):
    """Pick an organization member who is not in the team yet: from a list when the
    organization is small, by email when it is large."""

    membership = forms.TypedChoiceField(required=False, coerce=int, empty_value=None, label="Member")
    email = forms.EmailField(required=False, label="Member email")

    def __init__(self, *args, candidates=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.use_select = candidates is not None
        if self.use_select:
            self.fields["membership"].choices = [("", "Choose a member…")] + [
                (m.pk, f"{m.user.display_name} <{m.user.email}>" if m.user.display_name != m.user.email
                 else m.user.email)
                for m in candidates
            ]
            del self.fields["email"]
        else:
            del self.fields["membership"]
            self.fields["email"].required = True

    def clean(self):
        cleaned = super().clean()
        if self.use_select and not cleaned.get("membership") and not self.errors:
            self.add_error("membership", "Choose a member to add.")
        return cleaned
