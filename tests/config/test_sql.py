"""config.sql: hand-written SQL that must read and write exactly what the ORM would."""
import pytest
from django.db import IntegrityError, connection

from accounts.models import User
from config import sql
from orgs.audit import audit_row, set_client_ip, reset_client_ip
from orgs.models import AuditEvent, Membership, Organization

pytestmark = pytest.mark.django_db


def _fields(obj):
    return {field.attname: getattr(obj, field.attname) for field in obj._meta.concrete_fields}


def _read(model, pk):
    table = connection.ops.quote_name(model._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {sql.columns(model, 't')} FROM {table} t WHERE t.id = %s", [pk])
        return cursor.fetchone()


@pytest.mark.parametrize("model", [User, Organization, Membership])
def test_instance_is_what_the_orm_loads(model, member):
    pk = {User: member.user_id, Organization: member.org_id, Membership: member.pk}[model]
    loaded = sql.instance(model, _read(model, pk))
    assert type(loaded) is model and not loaded._state.adding and loaded._state.db == connection.alias
    assert _fields(loaded) == _fields(model.objects.get(pk=pk))


def test_instance_of_an_outer_join_that_found_nothing_is_none(org):
    row = (None,) * sql.width(Membership)
    assert sql.instance(Membership, ("x",) + row, 1) is None


def test_insert_writes_what_save_writes_json_and_addresses_included(org, admin_user):
    token = set_client_ip("203.0.113.7")
    try:
        row = audit_row(org=org, actor=admin_user, event="test.event", target=org, new={"a": [1, "ü"], "b": None})
    finally:
        reset_client_ip(token)
    sql.insert(row)
    assert row.pk is not None and not row._state.adding
    stored = AuditEvent.objects.get(pk=row.pk)
    assert stored.new == {"a": [1, "ü"], "b": None} and stored.old is None
    assert stored.ip_address == "203.0.113.7" and stored.actor_id == admin_user.pk
    assert stored.created_at == row.created_at
    assert sql.instance(AuditEvent, _read(AuditEvent, row.pk)).new == {"a": [1, "ü"], "b": None}


@pytest.mark.django_db(transaction=True)
def test_write_together_is_all_or_nothing(org, admin_user):
    """A failing later write undoes the earlier ones (one statement on PostgreSQL, one
    transaction elsewhere), outside any transaction of the test's."""
    user_table = connection.ops.quote_name(User._meta.db_table)
    rename = (f"UPDATE {user_table} SET first_name = %s WHERE id = %s", ["Changed", admin_user.pk])
    taken = User(email=admin_user.email)  # the email is unique
    taken.set_unusable_password()
    with pytest.raises(IntegrityError):
        sql.write_together([rename, sql.insert_sql(taken)])
    admin_user.refresh_from_db()
    assert admin_user.first_name == "Ada"
    fresh = User(email="new@acme.test")
    fresh.set_unusable_password()
    sql.write_together([rename, sql.insert_sql(fresh)])
    admin_user.refresh_from_db()
    assert admin_user.first_name == "Changed" and User.objects.filter(email="new@acme.test").exists()


def test_insert_sql_refuses_unknown_columns(org):
    with pytest.raises(TypeError):
        sql.insert_sql(Organization(slug="x", name="X"), nonsense="1")
