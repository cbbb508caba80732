from django.core.management.base import BaseCommand, CommandError

from config.errors import ServiceError
from orgs.models import Plan
from orgs.services import organization_create

from ._common import get_user


class Command(BaseCommand):
    help = "Create an organization with an existing account as its administrator."

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("--name", required=True)
        parser.add_argument("--admin", required=True, metavar="EMAIL")
        parser.add_argument("--plan", default=Plan.HOBBY, choices=Plan.values)
        parser.add_argument("--sso-addon", action="store_true")

    def handle(self, *args, **options):
        admin = get_user(options["admin"])
        try:
            org = organization_create(slug=options["slug"], name=options["name"], creator=admin,
                                      plan=options["plan"], sso_addon=options["sso_addon"])
        except ServiceError as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(f"Created organization {org.slug} ({org.plan}) administered by {admin.email}.")
