"""Sign-in, sign-up and password-reset forms. Rule ids: docs/rules.md."""
from django import forms
from django.contrib.auth import password_validation
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm
from django.utils.html import strip_tags

from .models import User, normalize_email
from .policy import password_signin_refusal
from .services import user_email_link_send
from .tokens import EmailLinkPurpose


class SignInForm(AuthenticationForm):
    username = forms.EmailField(label="Email", widget=forms.EmailInput(attrs={"autofocus": True,
                                                                            "autocomplete": "email"}))

    def clean_username(self):
        return normalize_email(self.cleaned_data["username"])

    def confirm_login_allowed(self, user):
        super().confirm_login_allowed(user)
        refusal = password_signin_refusal(user)
        if refusal:
            raise forms.ValidationError(refusal, code="sso_required")


class SignUpForm(forms.Form):
    email = forms.EmailField(widget=forms.EmailInput(attrs={"autocomplete": "email"}))
    first_name = forms.CharField(max_length=150, required=False)
    last_name = forms.CharField(max_length=150, required=False)
    password = forms.CharField(widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
                               help_text=password_validation.password_validators_help_text_html())

    def __init__(self, *args, fixed_email: str | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fixed_email = fixed_email
        # An unclaimed account for this address (E14): invisible here; signing up claims it.
        self.account_to_claim: User | None = None
        if fixed_email:
            self.fields["email"].initial = fixed_email
            self.fields["email"].disabled = True

    def clean_email(self):
        email = normalize_email(self.fixed_email or self.cleaned_data["email"])
        existing = User.objects.filter(email=email).first()
        if existing is not None and existing.claimed:
            raise forms.ValidationError("An account with this email already exists. Sign in instead.")
        self.account_to_claim = existing
        return email

    def clean(self):
        cleaned = super().clean()
        password = cleaned.get("password")
        if password:
            candidate = User(email=cleaned.get("email") or "", first_name=cleaned.get("first_name", ""),
                             last_name=cleaned.get("last_name", ""))
            try:
                password_validation.validate_password(password, candidate)
            except forms.ValidationError as exc:
                self.add_error("password", exc)
        return cleaned


class ResetForm(PasswordResetForm):
    """Django's reset form skips accounts without a usable password; ours must not:
    people created through SSO use this flow to set a first password once their
    organization turns SSO off (D1).

    An account that must sign in through its organization's IdP (E11) gets an email
    that says so and carries no reset link; the page shown after asking is the same
    for every address, so it reveals nothing more than sign-up does. An unclaimed
    account (E14) gets its claim link instead, even when its IdP enforces SSO: the
    claim ends that tie before any password is set."""

    def get_users(self, email):
        email = normalize_email(email)
        return (user for user in User.objects.filter(email=email, is_active=True))

    def send_mail(self, subject_template_name, email_template_name, context, from_email, to_email,
                  html_email_template_name=None):
        if not context["user"].claimed:
            user_email_link_send(user=context["user"], purpose=EmailLinkPurpose.CLAIM)
            return
        refusal = password_signin_refusal(context["user"])
        if refusal:
            context = {key: value for key, value in context.items() if key not in ("uid", "token")}
            context["refusal"] = strip_tags(refusal)
            subject_template_name = "accounts/email/password_reset_sso_subject.txt"
            email_template_name = "accounts/email/password_reset_sso.txt"
            html_email_template_name = None
        super().send_mail(subject_template_name, email_template_name, context, from_email, to_email,
                          html_email_template_name)
