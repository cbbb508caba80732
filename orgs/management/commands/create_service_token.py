import json

from django.core.management.base import BaseCommand, CommandError

from config.errors import ServiceError
from orgs.services import service_token_create

from ._common import get_org, get_user


class Command(BaseCommand):
    help = "Print a new API service token for a member of the organization, as JSON {id, token}."

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("--user", required=True, metavar="EMAIL")
        parser.add_argument("--name", default="", help="Defaults to 'cli-<n>'.")

    def handle(self, *args, **options):
        org = get_org(options["slug"])
        user = get_user(options["user"])
        name = options["name"]
        if not name:
            from orgs.models import ServiceToken

            name = f"cli-{ServiceToken.objects.filter(org=org).count() + 1}"
        try:
            token, secret = service_token_create(org=org, name=name, actor=user)
        except ServiceError as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(json.dumps({"id": token.pk, "name": token.name, "role": token.role, "token": secret}))
