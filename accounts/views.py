import re

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods

from .forms import ResetForm, SignInForm, SignUpForm
from .policy import password_signin_refusal, sign_out_redirect
from .services import user_create


def safe_relative_path(target: str, fallback: str = "/") -> str:
    """`target` if it is a relative path on this site (never `//host`, `/\\host`, a scheme
    or control characters), else `fallback`. Also used for SAML RelayState."""
    target = target or ""
    if (target.startswith("/") and not target.startswith(("//", "/\\"))
            and not any(ord(ch) < 32 or ch == "\\" for ch in target)
            and url_has_allowed_host_and_scheme(target, allowed_hosts=set(), require_https=False)):
        return target
    return fallback


def safe_next(request, fallback: str = "/") -> str:
    """Only relative paths on this site: never `//host`, `/\\host` or a scheme."""
    return safe_relative_path(request.POST.get("next") or request.GET.get("next") or "", fallback)


class SignInView(auth_views.LoginView):
    form_class = SignInForm
    template_name = "accounts/login.html"
    redirect_authenticated_user = True


class SignOutView(auth_views.LogoutView):
    def post(self, request, *args, **kwargs):
        # Asked first: logout() flushes the session, and with it which IdP made it.
        onward = sign_out_redirect(request)
        response = super().post(request, *args, **kwargs)
        return onward or response


@require_http_methods(["GET", "POST"])
def signup(request):
    if request.user.is_authenticated:
        return redirect(safe_next(request, "/"))
    invitation = _invitation_in_next(safe_next(request, ""))
    form = SignUpForm(request.POST or None, fixed_email=invitation.email if invitation else None)
    if request.method == "POST" and form.is_valid():
        user = user_create(
            email=form.cleaned_data["email"],
            password=form.cleaned_data["password"],
            first_name=form.cleaned_data["first_name"],
            last_name=form.cleaned_data["last_name"],
        )
        login(request, user, backend="accounts.backends.EmailBackend")
        messages.success(request, "Welcome to Gatehouse.")
        return redirect(safe_next(request, "/"))
    return render(request, "accounts/signup.html", {"form": form, "next": safe_next(request, ""),
                                                    "invitation": invitation})


def _invitation_in_next(next_path: str):
    """Signing up to accept an invitation (`?next=/invitations/<token>/`) locks the invited email."""
    match = re.fullmatch(r"/invitations/([A-Za-z0-9_\-]{1,200})/", next_path)
    if not match:
        return None
    from orgs.errors import ServiceError
    from orgs.services import invitation_lookup

    try:
        return invitation_lookup(match.group(1))
    except ServiceError:
        return None


class PasswordResetView(auth_views.PasswordResetView):
    form_class = ResetForm
    template_name = "accounts/password_reset.html"
    email_template_name = "accounts/email/password_reset.txt"
    subject_template_name = "accounts/email/password_reset_subject.txt"
    success_url = reverse_lazy("accounts:password_reset_done")

    def get_extra_email_context(self):
        return {"base_url": settings.BASE_URL}

    def form_valid(self, form):
        # Links in the email are built from BASE_URL, never from the Host header.
        self.extra_email_context = self.get_extra_email_context()
        return super().form_valid(form)


class PasswordResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "accounts/password_reset_done.html"


class RefuseSSOOnlyAccounts:
    """E11: an account that must sign in through its organization's IdP sets no password
    here (the page says to use SSO; the password it has is kept for D1)."""

    def refusal_for(self, user):
        return password_signin_refusal(user) if user is not None and user.is_authenticated else None

    def refused(self, refusal):
        return render(self.request, "accounts/sso_only.html", {"refusal": refusal}, status=403)


class PasswordResetConfirmView(RefuseSSOOnlyAccounts, auth_views.PasswordResetConfirmView):
    """A link mailed before the account became SSO-only still sets no password."""

    template_name = "accounts/password_reset_confirm.html"
    success_url = reverse_lazy("accounts:password_reset_complete")

    def dispatch(self, *args, **kwargs):
        response = super().dispatch(*args, **kwargs)
        # Only behind a valid link: a guessed uid learns nothing about the account.
        refusal = self.refusal_for(self.user) if self.validlink else None
        return self.refused(refusal) if refusal else response

    def form_valid(self, form):
        refusal = self.refusal_for(self.user)
        return self.refused(refusal) if refusal else super().form_valid(form)


class PasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "accounts/password_reset_complete.html"


class PasswordChangeView(RefuseSSOOnlyAccounts, auth_views.PasswordChangeView):
    template_name = "accounts/password_change.html"
    success_url = reverse_lazy("accounts:password_change_done")

    def dispatch(self, request, *args, **kwargs):
        refusal = self.refusal_for(request.user)
        return self.refused(refusal) if refusal else super().dispatch(request, *args, **kwargs)


class PasswordChangeDoneView(auth_views.PasswordChangeDoneView):
    template_name = "accounts/password_change_done.html"
