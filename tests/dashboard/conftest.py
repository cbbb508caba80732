"""Objects in both organizations, so every page can prove the other organization's rows are invisible."""
from types import SimpleNamespace

import pytest

from orgs.services import database_create, database_password_create, invitation_create, service_token_create
from teams.services import team_create, team_member_add


@pytest.fixture
def acme(org, admin_user, member):
    database = database_create(org=org, name="acme-main", actor=admin_user)
    password, _ = database_password_create(org=org, database=database, name="acme-app", access="read_write",
                                           actor=member.user)
    token, _ = service_token_create(org=org, name="acme-deploy", actor=member.user)
    team = team_create(org=org, name="Acme Core", actor=admin_user)
    team_member_add(org=org, team=team, membership=member, actor=admin_user)
    invitation, _ = invitation_create(org=org, email="newbie@acme.test", role="member", actor=admin_user)
    return SimpleNamespace(org=org, database=database, password=password, token=token, team=team,
                           invitation=invitation, member=member)


@pytest.fixture
def other(other_org, outsider):
    database = database_create(org=other_org, name="other-secret-db", actor=outsider)
    password, _ = database_password_create(org=other_org, database=database, name="other-pw", access="read_only",
                                           actor=outsider)
    token, _ = service_token_create(org=other_org, name="other-token", actor=outsider)
    team = team_create(org=other_org, name="Other Team", actor=outsider)
    invitation, _ = invitation_create(org=other_org, email="stranger@other.test", role="member", actor=outsider)
    membership = other_org.memberships.get(user=outsider)
    return SimpleNamespace(org=other_org, database=database, password=password, token=token, team=team,
                           invitation=invitation, membership=membership)
