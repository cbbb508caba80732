"""Setup links' services (issue 14 item 1): the lifetime's bounds, the secret kept only as
its hash, the plan, creating and revoking audited in their transaction."""
import json
from datetime import timedelta

import pytest
from django.db import connection

from config.errors import NotFound, ServiceError
from orgs.models import AuditEvent, Plan, hash_secret
from orgs.services import organization_set_plan
from setuplinks.events import SetupLinkEvents
from setuplinks.models import SetupLink
from setuplinks.selectors import live_setup_link
from setuplinks.services import setup_link_create, setup_link_revoke, setup_link_url
from sso.services import SSONotAvailable

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("lifetime", [timedelta(hours=1), timedelta(days=30), timedelta(hours=168)])
def test_a_lifetime_from_one_hour_to_thirty_days_is_accepted(org, admin_user, lifetime):
    link, _ = setup_link_create(org=org, actor=admin_user, lifetime=lifetime)
    assert link.expires_at - link.created_at == lifetime


@pytest.mark.parametrize("lifetime", [timedelta(0), timedelta(minutes=59), timedelta(hours=-5),
                                      timedelta(days=30, seconds=1), timedelta(days=365), 24])
def test_a_lifetime_outside_the_bounds_is_refused(org, admin_user, lifetime):
    with pytest.raises(ServiceError) as refused:
        setup_link_create(org=org, actor=admin_user, lifetime=lifetime)
    assert refused.value.code == "invalid_lifetime"
    assert not SetupLink.objects.exists() and not AuditEvent.objects.filter(event__startswith="setup_link").exists()


def test_the_secret_is_256_random_bits_shown_once_and_stored_only_as_its_sha256(org, admin_user):
    link, secret = setup_link_create(org=org, actor=admin_user, lifetime=timedelta(hours=2), note="Jane")
    random_part = secret.removeprefix("ghsetup_")
    assert len(random_part) == 43  # secrets.token_urlsafe(32)
    assert setup_link_url(secret) == f"http://testserver/setup/{secret}/"
    assert link.secret_hash == hash_secret(secret)
    # No table holds the raw value: every row of every table, as the database returns it.
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f'SELECT * FROM "{table}"')
            assert random_part not in json.dumps(cursor.fetchall(), default=str), table
    assert live_setup_link(secret) == link


def test_two_links_are_different_and_each_opens_only_itself(org, admin_user):
    first, first_secret = setup_link_create(org=org, actor=admin_user, lifetime=timedelta(hours=2))
    second, second_secret = setup_link_create(org=org, actor=admin_user, lifetime=timedelta(hours=2))
    assert first_secret != second_secret
    assert live_setup_link(first_secret) == first and live_setup_link(second_secret) == second
    assert live_setup_link(first_secret[:-1] + ("A" if first_secret[-1] != "A" else "B")) is None


def test_creating_and_revoking_are_audited_with_the_administrator(org, admin_user):
    link, _ = setup_link_create(org=org, actor=admin_user, lifetime=timedelta(hours=3), note="  Jane\n Doe ",
                                allow_directory_sync=True)
    assert link.note == "Jane Doe"
    created = AuditEvent.objects.get(org=org, event=SetupLinkEvents.CREATED)
    assert created.actor == admin_user and created.target_id == str(link.pk)
    assert created.new["note"] == "Jane Doe" and created.new["allow_directory_sync"] is True
    setup_link_revoke(org=org, actor=admin_user, link_id=link.pk)
    setup_link_revoke(org=org, actor=admin_user, link_id=link.pk)  # once revoked, nothing more happens
    assert AuditEvent.objects.filter(org=org, event=SetupLinkEvents.REVOKED).count() == 1
    assert link.label == f"setup link #{link.pk} (Jane Doe)"


def test_a_link_of_another_organization_cannot_be_revoked(org, other_org, admin_user, outsider):
    link, secret = setup_link_create(org=org, actor=admin_user, lifetime=timedelta(hours=3))
    with pytest.raises(NotFound):
        setup_link_revoke(org=other_org, actor=outsider, link_id=link.pk)
    assert live_setup_link(secret) == link


def test_a_note_longer_than_200_characters_is_refused(org, admin_user):
    with pytest.raises(ServiceError) as refused:
        setup_link_create(org=org, actor=admin_user, lifetime=timedelta(hours=3), note="x" * 201)
    assert refused.value.code == "invalid_note"


def test_only_a_plan_with_sso_makes_links_and_a_plan_that_lost_it_closes_them(org, admin_user, other_org,
                                                                              outsider):
    with pytest.raises(SSONotAvailable):  # other_org is on Hobby
        setup_link_create(org=other_org, actor=outsider, lifetime=timedelta(hours=3))
    _, secret = setup_link_create(org=org, actor=admin_user, lifetime=timedelta(hours=3))
    organization_set_plan(org=org, plan=Plan.SCALER, sso_addon=False, actor=None)
    assert live_setup_link(secret) is None
    organization_set_plan(org=org, plan=Plan.ENTERPRISE, sso_addon=False, actor=None)
    assert live_setup_link(secret) is not None  # unexpired and unrevoked: it comes back with the plan


@pytest.mark.parametrize("secret", ["", "x", "ghsetup_", "ghsetup_" + "a" * 42, "ghsetup_" + "a" * 44,
                                    "other___" + "a" * 43, "ghsetup_" + "a" * 10_000, None, 42])
def test_a_secret_of_the_wrong_shape_opens_nothing_without_a_query(secret, django_assert_num_queries):
    with django_assert_num_queries(0):
        assert live_setup_link(secret) is None
