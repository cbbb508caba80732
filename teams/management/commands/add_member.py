from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from config.errors import ServiceError
from orgs.management.commands._common import get_org, get_user
from orgs.models import Membership
from orgs.policy import member_add_warnings
from orgs.services import membership_add, membership_set_database_admin
from teams.models import Team
from teams.services import team_member_add


class Command(BaseCommand):
    """In teams, not orgs: it composes orgs and teams (`--team`), and orgs imports no app above it."""

    help = "Add an existing account to an organization (support and scripting)."

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("email")
        parser.add_argument("--role", default=Membership.Role.MEMBER, choices=Membership.Role.values)
        parser.add_argument("--database-admin", action="store_true")
        parser.add_argument("--team", action="append", default=[], metavar="NAME",
                            help="Add to this existing team (repeatable).")

    def handle(self, *args, **options):
        org = get_org(options["slug"])
        user = get_user(options["email"])
        teams = []
        for name in options["team"]:
            team = Team.objects.filter(org=org, name__iexact=name.strip()).first()
            if team is None:
                raise CommandError(f"No team named “{name}” in {org.slug}.")
            teams.append(team)
        if Membership.objects.filter(org=org, user=user).exists():
            raise CommandError(f"{user.email} is already a member of {org.slug}.")
        try:
            with transaction.atomic():
                membership = membership_add(org=org, user=user, role=options["role"], actor=None,
                                            actor_label="operator")
                if options["database_admin"]:
                    membership_set_database_admin(org=org, membership=membership, value=True, actor=None)
                for team in teams:
                    team_member_add(org=org, team=team, membership=membership, actor=None, actor_label="operator")
        except ServiceError as exc:
            raise CommandError(exc.message) from None
        extras = []
        if options["database_admin"]:
            extras.append("Database Administrator")
        if teams:
            extras.append("teams: " + ", ".join(t.name for t in teams))
        self.stdout.write(f"Added {user.email} to {org.slug} as {membership.role}"
                          + (f" ({'; '.join(extras)})" if extras else "") + ".")
        for warning in member_add_warnings(org, user):
            self.stderr.write(self.style.WARNING(f"Warning: {warning}"))
