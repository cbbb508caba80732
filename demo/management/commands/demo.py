from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from orgs.models import DatabasePassword, Membership, Organization, Plan
from orgs.services import (
    database_create,
    database_password_create,
    membership_add,
    membership_set_database_admin,
    organization_create,
    service_token_create,
)
from teams.services import team_create, team_member_add

from demo.sso import configure_test_idp

DEMO_PASSWORD = "gatehouse-demo-2026"
SLUG = "acme"
ADMINS = [("ada@acme.example", "Ada", "Lovelace"), ("grace@acme.example", "Grace", "Hopper")]
MEMBERS = [
    ("max@acme.example", "Max", "Member", True),   # a Database Administrator
    ("lin@acme.example", "Lin", "Chen", False),
    ("sam@acme.example", "Sam", "Okafor", False),
    ("eve@acme.example", "Eve", "Moreau", False),
]
TEAMS = {"Platform": ["ada@acme.example", "max@acme.example", "lin@acme.example"], "Data": ["sam@acme.example"]}


class Command(BaseCommand):
    help = "Load a demo organization (admins, members, teams, credentials) and its SSO against the built-in test IdP."

    def handle(self, *args, **options):
        org = Organization.objects.filter(slug=SLUG).first()
        if org is None:
            org = self._create()
            self.stdout.write(self.style.SUCCESS(f"Loaded the demo organization “{org.name}” ({org.slug})."))
        else:
            self.stdout.write(f"The demo organization “{org.slug}” is already there; nothing to load.")
        admins = list(User.objects.filter(email__in=[a[0] for a in ADMINS]))
        members = list(User.objects.filter(email__in=[m[0] for m in MEMBERS]))
        configure_test_idp(org=org, admins=admins, members=members, stdout=self.stdout)
        self.stdout.write(
            "\nSign in at http://localhost:8000/accounts/login/ with any of these (password "
            f"“{DEMO_PASSWORD}”):\n"
            + "".join(f"  {email}  (administrator)\n" for email, *_ in ADMINS)
            + "".join(f"  {email}  (member{', Database Administrator' if dba else ''})\n" for email, _, _, dba in MEMBERS)
        )

    @transaction.atomic
    def _create(self) -> Organization:
        users = {}
        for email, first, last, *_ in ADMINS + MEMBERS:
            user = User.objects.filter(email=email).first() or User.objects.create_user(
                email, DEMO_PASSWORD, first_name=first, last_name=last, email_verified_at=timezone.now()
            )
            users[email] = user
        owner = users[ADMINS[0][0]]
        org = organization_create(slug=SLUG, name="Acme Corp", creator=owner, plan=Plan.ENTERPRISE)
        memberships = {owner.email: Membership.objects.get(org=org, user=owner)}
        for email, *_ in ADMINS[1:]:
            memberships[email] = membership_add(org=org, user=users[email], role=Membership.Role.ADMIN, actor=owner)
        for email, _, _, dba in MEMBERS:
            memberships[email] = membership_add(org=org, user=users[email], actor=owner)
            if dba:
                membership_set_database_admin(org=org, membership=memberships[email], value=True, actor=owner)
        for name, emails in TEAMS.items():
            team = team_create(org=org, name=name, actor=owner)
            for email in emails:
                team_member_add(org=org, team=team, membership=memberships[email], actor=owner)
        for db_name, creator in (("orders", "max@acme.example"), ("analytics", "sam@acme.example")):
            database = database_create(org=org, name=db_name, actor=users[creator])
            database_password_create(org=org, database=database, name=f"{db_name}-app", actor=users[creator],
                                     access=DatabasePassword.Access.READ_WRITE)
        service_token_create(org=org, name="ci-deploy", actor=users["lin@acme.example"])
        service_token_create(org=org, name="terraform", actor=owner)
        return org
