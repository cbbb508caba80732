"""Teams and their members, inside one organization. Rule ids: docs/rules.md."""
from django.db import models
from django.db.models.functions import Lower

from orgs.models import Membership, Organization, TimestampedModel


class Team(TimestampedModel):
    org = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="teams")
    name = models.CharField(max_length=100)
    # A team that mirrors an IdP group (DS3/DS6); not edited by hand.
    directory_managed = models.BooleanField(default=False)
    external_id = models.CharField(max_length=255, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint("org", Lower("name"), name="teams_team_org_name_ci_unique")]

    def __str__(self) -> str:
        return self.name


class TeamMember(models.Model):
    """Tied to the membership, not the user: removing someone from the organization
    removes them from its teams, and rejoining does not bring those back (E6)."""

    org = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="team_members")
    membership = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="team_members")
    # Added by a group rule (sso.GroupRule): leaving the group removes it.
    by_rule = models.BooleanField(default=False, db_default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["team", "membership"], name="teams_teammember_team_membership_unique")
        ]
