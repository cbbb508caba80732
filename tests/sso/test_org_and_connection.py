"""sso.selectors.org_and_connection: the ACS's one query for organization, connection
and certificates must give what the ORM gives."""
import pytest
from django.db import connection as db
from django.test.utils import CaptureQueriesContext

from sso.models import SSOCertificate
from sso.selectors import org_and_connection
from sso.services import connection_certificates, sso_certificate_add

from .idp import keypair

pytestmark = pytest.mark.django_db


def _fields(obj):
    return {field.attname: getattr(obj, field.attname) for field in obj._meta.concrete_fields}


def test_one_query_gives_the_orm_values_and_loaded_certificates(org, connection, admin_user, other_org):
    _, second = keypair("second")
    sso_certificate_add(org=org, actor=admin_user, pem=second)
    with CaptureQueriesContext(db) as queries:
        found_org, found = org_and_connection("acme")
        certificates = list(found.loaded_certificates)
        pems = connection_certificates(found)
        assert found.org is found_org and found_org.slug == "acme"
    assert len(queries.captured_queries) == 1
    assert _fields(found_org) == _fields(type(org).objects.get(pk=org.pk))
    assert _fields(found) == _fields(type(connection).objects.get(pk=connection.pk))
    expected = list(SSOCertificate.objects.filter(connection=connection).order_by("created_at", "pk"))
    assert [_fields(c) for c in certificates] == [_fields(c) for c in expected] and len(expected) == 2
    assert pems == [c.pem for c in expected]


def test_the_loaded_certificates_stay_scoped_to_their_connection(org, connection, other_org, outsider, idp):
    from sso.services import sso_configure

    _, foreign = keypair("foreign")
    sso_configure(org=other_org, actor=outsider, idp_entity_id="https://other-idp.test",
                  idp_sso_url="https://other-idp.test/sso", certificates=[foreign])
    _, found = org_and_connection("acme")
    # A new query made from the loaded set still names only this connection's rows.
    assert set(found.certificates.filter(pk__gt=0).values_list("connection_id", flat=True)) == {connection.pk}
    assert found.certificates.count() == 1


def test_an_organization_without_connection_and_an_unknown_slug(org, other_org):
    found_org, found = org_and_connection("acme")
    assert found_org == org and found is None
    assert org_and_connection("no-such-org") == (None, None)
