"""config.sql: hand-written SQL that must read and write exactly what the ORM would."""
import pytest
from django.db import IntegrityError, connection
from django.utils import timezone

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
        cursor.execute(f"SELECT {sql.columns(model, 't')} FROM {table} t WHERE {sql.column(model, 'pk', 't')} = %s",
                       [pk])
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
    saved = sql.insert(row)
    assert row.pk is not None and saved.pk == row.pk
    # The instance save() would have left behind: saved, loaded as the ORM loads it.
    assert not saved._state.adding and saved._state.db == connection.alias
    stored = AuditEvent.objects.get(pk=row.pk)
    assert _fields(saved) == _fields(stored)
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


def test_insert_sql_refuses_unknown_fields_and_names_fields_by_name_or_attname(org, admin_user):
    with pytest.raises(TypeError):
        sql.insert_sql(Membership(org=org, role="member"), user="1", nonsense="2")
    by_name = sql.insert_sql(Membership(org=org, role="member"), select_from=["t"], user="t.x")
    by_attname = sql.insert_sql(Membership(org=org, role="member"), select_from=["t"], user_id="t.x")
    assert by_name[0] == by_attname[0] and "t.x" in by_name[0]


def test_column_and_param_come_from_the_fields():
    quote = connection.ops.quote_name
    assert sql.column(Membership, "user") == sql.column(Membership, "user_id") == quote("user_id")
    assert sql.column(Membership, "pk", "m") == f"m.{quote('id')}"
    assert sql.columns(Membership).startswith(quote("id") + ", ")
    moment = timezone.now()
    assert sql.param(AuditEvent, "created_at", moment) == AuditEvent._meta.get_field("created_at").get_db_prep_save(
        moment, connection)
    with pytest.raises(TypeError):
        sql.column(Membership, "nonsense")


def test_insert_sql_from_a_select_with_a_condition_and_returning_the_row(org, admin_user, member_user):
    """INSERT … SELECT … WHERE, each other column as the ORM sends it; RETURNING every
    column, read back as the ORM loads it."""
    statement, params = sql.insert_sql(
        Membership(org=org, role=Membership.Role.MEMBER), select_from=[sql.table(User)],
        where=f"{sql.column(User, 'email')} = %s", user=sql.column(User, "pk"), returning=True)
    with connection.cursor() as cursor:
        cursor.execute(statement, params + [member_user.email])
        rows = cursor.fetchall()
    assert len(rows) == 1
    made = sql.instance(Membership, rows[0])
    assert _fields(made) == _fields(Membership.objects.get(org=org, user=member_user))
    assert made.role == "member" and not made.is_database_admin


def test_update_sql_writes_what_save_update_fields_writes(org, admin_user):
    membership = Membership.objects.get(org=org, user=admin_user)
    before = membership.updated_at
    membership.is_database_admin = True
    with connection.cursor() as cursor:
        cursor.execute(*sql.update_sql(membership, ["is_database_admin", "updated_at"]))
    assert membership.updated_at > before  # auto_now, set on the instance as save() does
    assert _fields(Membership.objects.get(pk=membership.pk)) == _fields(membership)
