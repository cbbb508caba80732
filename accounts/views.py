"""Sign-in, sign-up, the emailed links and the password pages. Rule ids: docs/rules.md."""
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.tokens import default_token_generator
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.encoding import force_bytes
from django.utils.http import url_has_allowed_host_and_scheme, urlsafe_base64_encode
from django.views.decorators.http import require_http_methods

from .forms import ResetForm, SignInForm, SignUpForm
from .models import normalize_email
from .policy import password_signin_refusal, sign_out_redirect, signup_invitation
from .services import user_claim, user_create, user_email_link_send, user_verify_email
from .tokens import EmailLinkPurpose, email_link_user


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
    invitation = signup_invitation(safe_next(request, ""))  # it locks the invited email
    form = SignUpForm(request.POST or None, fixed_email=invitation.email if invitation else None)
    if request.method == "POST" and form.is_valid():
        if form.account_to_claim is not None:
            # E14: an account an organization's IdP or directory made for this address is
            # not made again: its owner claims it through the link mailed to the address.
            user_email_link_send(user=form.account_to_claim, purpose=EmailLinkPurpose.CLAIM)
            return render(request, "accounts/check_email.html", {"email": form.cleaned_data["email"]})
        # A valid invitation for exactly this address reached its mailbox: it proves the
        # address as well as our own link would, so the invitee can accept at once.
        invited = invitation is not None and normalize_email(invitation.email) == form.cleaned_data["email"]
        user = user_create(
            email=form.cleaned_data["email"],
            password=form.cleaned_data["password"],
            first_name=form.cleaned_data["first_name"],
            last_name=form.cleaned_data["last_name"],
            email_verified=invited,
        )
        login(request, user, backend="accounts.backends.EmailBackend")
        messages.success(request, "Welcome to Gatehouse.")
        if invited:
            return redirect(safe_next(request, "/"))
        user_email_link_send(user=user, purpose=EmailLinkPurpose.VERIFY, next_path=safe_next(request, ""))
        return redirect(_with_next(reverse("accounts:verify_email"), safe_next(request, "")))
    return render(request, "accounts/signup.html", {"form": form, "next": safe_next(request, ""),
                                                    "invitation": invitation})


def _with_next(path: str, next_path: str) -> str:
    return f"{path}?{urlencode({'next': next_path})}" if next_path else path


@login_required
@require_http_methods(["GET", "POST"])
def verify_email(request):
    """E14: "check your email" after sign-up, and where a signed-in account asks for its
    verification link again (also from the invitation page, which passes `next`)."""
    next_path = safe_next(request, "")
    user = request.user
    if request.method == "POST":
        if user_email_link_send(user=user, purpose=EmailLinkPurpose.VERIFY, next_path=next_path):
            messages.success(request, f"We sent a new verification link to {user.email}.")
        elif user.claimed and user.email_verified_at is None:
            messages.info(request, "We sent a link a moment ago; check your inbox, or ask again in a minute.")
        return redirect(next_path or reverse("accounts:verify_email"))
    return render(request, "accounts/check_email.html", {"email": user.email, "next": next_path})


def _email_link(request, token: str, purpose: str):
    """The account an emailed link names, or the page that says the link is spent."""
    user = email_link_user(token, purpose)
    if user is None:
        return None, render(request, "accounts/email_link.html", {"purpose": purpose, "invalid": True}, status=400)
    return user, None


@require_http_methods(["GET", "POST"])
def verify_email_confirm(request, token: str):
    """The verification link. A GET only shows a button (mail scanners fetch links); the
    POST verifies, whoever is signed in: holding the link proves the mailbox."""
    user, invalid = _email_link(request, token, EmailLinkPurpose.VERIFY)
    if invalid:
        return invalid
    next_path = safe_next(request, "")
    if request.method == "POST":
        user_verify_email(user=user)
        messages.success(request, f"Your email address {user.email} is verified.")
        return redirect(next_path or "/")
    return render(request, "accounts/email_link.html",
                  {"purpose": EmailLinkPurpose.VERIFY, "email": user.email, "next": next_path})


@require_http_methods(["GET", "POST"])
def claim(request, token: str):
    """The claim link (E14). A GET says what claiming does; the POST claims (every tie made
    before ends) and continues to the set-password form, as a password reset link does."""
    user, invalid = _email_link(request, token, EmailLinkPurpose.CLAIM)
    if invalid:
        return invalid
    if request.method == "POST":
        user = user_claim(user=user)
        return redirect("accounts:password_reset_confirm", uidb64=urlsafe_base64_encode(force_bytes(user.pk)),
                        token=default_token_generator.make_token(user))
    return render(request, "accounts/email_link.html", {"purpose": EmailLinkPurpose.CLAIM, "email": user.email})


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

    def get_user(self, uidb64):
        # E14: an unclaimed account gets a password only after its claim link, which ends
        # the ties a stranger made first; any other link is not valid for it.
        user = super().get_user(uidb64)
        return user if user is None or user.claimed else None

    def dispatch(self, *args, **kwargs):
        response = super().dispatch(*args, **kwargs)
        # Only behind a valid link: a guessed uid learns nothing about the account.
        refusal = self.refusal_for(self.user) if self.validlink else None
        return self.refused(refusal) if refusal else response

    def form_valid(self, form):
        refusal = self.refusal_for(self.user)
        if refusal:
            return self.refused(refusal)
        response = super().form_valid(form)
        user_verify_email(user=self.user)  # the link was read in the mailbox: the address is proved
        return response


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
