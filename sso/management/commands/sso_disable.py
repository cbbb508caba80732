"""Break-glass (D3): the operator's way back in when an organization's IdP is lost. Rule ids: docs/rules.md."""
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from config.errors import ServiceError
from orgs.management.commands._common import get_org
from orgs.models import AuditEvent, Membership
from sso.models import SSOConnection
from sso.services import sso_disable

REASON_MAX_LENGTH = 500
# Written by Directory Sync's receiver of `sso_disabled` (D2); named, not imported: scim sits above sso.
DIRECTORY_DISABLED = "directory.disabled"


class Command(BaseCommand):
    help = ("Operator: disable single sign-on for an organization (D1/D2), e.g. when its IdP is lost; "
            "audited with the reason.")

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("--reason", required=True, metavar="TEXT",
                            help=f"Why, for the audit log (up to {REASON_MAX_LENGTH} characters).")

    def handle(self, *args, **options):
        reason = options["reason"].strip()
        if not reason:
            raise CommandError("A reason is required: say why single sign-on is being disabled (--reason TEXT).")
        if len(reason) > REASON_MAX_LENGTH:
            raise CommandError(f"The reason is {len(reason)} characters long; keep it to {REASON_MAX_LENGTH}.")
        org = get_org(options["slug"])
        with transaction.atomic():
            # Locked, so the checks below still hold when the service runs.
            connection = SSOConnection.objects.select_for_update().filter(org=org).first()
            if connection is None:
                raise CommandError(f"Single sign-on is not configured for {org.slug}; there is nothing to disable.")
            if not connection.is_enabled:
                raise CommandError(f"Single sign-on is not enabled for {org.slug}; there is nothing to disable.")
            last_event = AuditEvent.objects.filter(org=org).order_by("-pk").values_list("pk", flat=True).first()
            try:
                sso_disable(org=org, actor=None, reason=reason, actor_label="operator")
            except ServiceError as exc:
                raise CommandError(exc.message) from None
            directory_turned_off = AuditEvent.objects.filter(org=org, pk__gt=last_event or 0,
                                                             event=DIRECTORY_DISABLED).exists()
            members = Membership.objects.filter(org=org).count()
        self.stdout.write(
            f"Disabled single sign-on for {org.slug} ({org.name}): "
            f"{members} member{'' if members == 1 else 's'} kept, "
            f"Directory Sync {'turned off' if directory_turned_off else 'was not on'}. "
            "Members sign in with their password again, or reset it by email."
        )
