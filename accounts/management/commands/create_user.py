"""`create_user`: the operator makes an account and vouches for its address. Rule ids: docs/rules.md."""
from django.core.management.base import BaseCommand, CommandError

from accounts.services import user_create
from config.errors import ServiceError


class Command(BaseCommand):
    help = "Create an account (no usable password unless --password is given)."

    def add_arguments(self, parser):
        parser.add_argument("email")
        parser.add_argument("--password", help="Password to set; omit for an account that must reset or use SSO.")
        parser.add_argument("--first-name", default="")
        parser.add_argument("--last-name", default="")
        parser.add_argument("--staff", action="store_true", help="Operator: can use the Django admin.")

    def handle(self, *args, **options):
        try:
            user = user_create(email=options["email"], password=options["password"], first_name=options["first_name"],
                               last_name=options["last_name"], is_staff=options["staff"],
                               email_verified=True)  # the operator vouches for the address (E14)
        except ServiceError as exc:
            raise CommandError(exc.message) from None
        if options["staff"]:
            user.is_superuser = True
            user.save(update_fields=["is_superuser"])
        self.stdout.write(f"Created {user.email}{' (staff)' if user.is_staff else ''}.")
