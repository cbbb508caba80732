"""Celery tasks of the sso app: they take ids, re-fetch, and return quietly when the row is gone."""
from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail

from accounts.models import User
from orgs.models import Organization

from .models import PendingLink


@shared_task(acks_late=True)
def remove_non_admins(org_id: int) -> int:
    """E1: remove every recorded non-admin membership, ~1,000 per transaction. Safe to
    run twice or after a crash: only intents not yet done are picked up."""
    from .services import sso_removal_run

    org = Organization.objects.filter(pk=org_id).first()
    if org is None:
        return 0
    return sso_removal_run(org=org)


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_removal_emails(org_id: int, user_ids: list) -> int:
    org = Organization.objects.filter(pk=org_id).first()
    if org is None:
        return 0
    sent = 0
    for user in User.objects.filter(pk__in=user_ids, is_active=True).only("email"):
        send_mail(
            subject=f"{org.name} now signs in with single sign-on",
            message=(
                f"{org.name} has turned on single sign-on (SSO) on Gatehouse, and your membership was removed.\n\n"
                f"To rejoin, sign in through your organization's identity provider:\n"
                f"  {settings.BASE_URL}/sso/{org.slug}/login/\n\n"
                "You will be added back as a member. Database administrator rights and team memberships are "
                "not restored automatically; ask an administrator. Database passwords and service tokens you "
                "created keep working.\n"
            ),
            from_email=None,
            recipient_list=[user.email],
        )
        sent += 1
    return sent


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_link_email(link_id: int, url: str) -> bool:
    link = PendingLink.objects.select_related("org", "user").filter(pk=link_id, used_at__isnull=True).first()
    if link is None:
        return False
    send_mail(
        subject=f"Confirm signing in to Gatehouse through {link.org.name}",
        message=(
            f"Someone signed in through {link.org.name}'s identity provider as {link.user.email}.\n\n"
            f"If this was you, confirm linking your Gatehouse account to {link.org.name}'s single sign-on:\n"
            f"  {url}\n\n"
            "The link works once and expires in 24 hours. If it was not you, ignore this email: nothing changes.\n"
        ),
        from_email=None,
        recipient_list=[link.user.email],
    )
    return True
