"""Celery tasks of the sso app: they take ids, re-fetch, and return quietly when the row is gone.

Rule ids: docs/rules.md."""
from celery import shared_task
from celery.signals import worker_ready
from django.conf import settings
from django.core.mail import send_mail

from accounts.models import User
from orgs.models import Organization

from .models import PendingLink


@shared_task(acks_late=True)
def remove_non_admins(org_id: int) -> int:
    """E1: remove every pre-enable non-admin membership, one transaction per batch.
    Safe to run twice, concurrently or after a crash: each batch re-reads what is
    left under the connection's row lock."""
    from .services import sso_removal_run

    org = Organization.objects.filter(pk=org_id).first()
    if org is None:
        return 0
    return sso_removal_run(org=org)


def _send_removal_email(org: Organization, user: User) -> None:
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


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_removal_emails(org_id: int) -> int:
    """Email every removed member of this organization not told yet (the SSORemoval outbox)."""
    from .services import sso_removal_notify

    org = Organization.objects.filter(pk=org_id).first()
    if org is None:
        return 0
    sent = 0
    while handled := sso_removal_notify(org=org, send=lambda user: _send_removal_email(org, user)):
        sent += handled
    return sent


@shared_task
def resume_sso_jobs() -> int:
    """Queued when a worker starts and by Celery beat (SSO_RESUME_EVERY_SECONDS): picks
    up enable jobs and removal emails that a killed worker left unfinished (the broker
    would redeliver the job only after its visibility timeout) or whose message the
    broker never took (config.enqueue, RESUME). A job queued twice is harmless: each
    batch re-reads what is left under the connection's row lock."""
    from .services import sso_jobs_to_resume

    running, unsent = sso_jobs_to_resume()
    for org_id in running:
        remove_non_admins.delay(org_id)
    for org_id in unsent:
        send_removal_emails.delay(org_id)
    return len(running) + len(unsent)


@worker_ready.connect
def _resume_on_worker_start(sender=None, **kwargs):
    resume_sso_jobs.delay()


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


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_identity_released_email(user_id: int, released_from_id: int, verified_by_id: int) -> bool:
    """E14: tell the address's owner that a verified domain moved their SSO link."""
    user = User.objects.filter(pk=user_id).first()
    released_from = Organization.objects.filter(pk=released_from_id).first()
    verified_by = Organization.objects.filter(pk=verified_by_id).first()
    if user is None or released_from is None or verified_by is None:
        return False
    send_mail(
        subject="Your Gatehouse single sign-on link changed",
        message=(
            f"{verified_by.name} has verified the domain of {user.email} and signed you in through its identity "
            f"provider, so your account's link to {released_from.name}'s single sign-on has ended (an address "
            "signs in through one organization's identity provider).\n\n"
            f"If you did not expect this, contact {verified_by.name}'s administrators.\n"
        ),
        from_email=None,
        recipient_list=[user.email],
    )
    return True
