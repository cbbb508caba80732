from django.core.management.base import BaseCommand, CommandError

from config.errors import ServiceError
from orgs.models import Plan
from orgs.services import organization_set_plan

from ._common import get_org


class Command(BaseCommand):
    help = "Operator: change an organization's plan and SSO add-on."

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("plan", choices=Plan.values)
        addon = parser.add_mutually_exclusive_group()
        addon.add_argument("--sso-addon", dest="sso_addon", action="store_true", default=None)
        addon.add_argument("--no-sso-addon", dest="sso_addon", action="store_false")

    def handle(self, *args, **options):
        org = get_org(options["slug"])
        try:
            org = organization_set_plan(org=org, plan=options["plan"], sso_addon=options["sso_addon"], actor=None)
        except ServiceError as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(
            f"{org.slug}: plan {org.plan}, SSO add-on {'on' if org.sso_addon else 'off'}, "
            f"SSO {'available' if org.sso_available else 'not available'}."
        )
