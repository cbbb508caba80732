"""Hand-written SQL for the few hot paths (the SAML ACS, SCIM provisioning, new
sessions) where the ORM's cost per statement matters: building a query takes about
1 ms of Python on a slow core, running the same SQL through a cursor 0.1 ms.

Every column list, value and model instance comes from the models' own field
metadata and the ORM's own conversions, so nothing here repeats a schema by hand:
a new field is picked up, and values read back are exactly what the ORM would give
(datetimes on SQLite, JSON, …).
"""
import functools

from django.db import connection, transaction


def table(model) -> str:
    """`model`'s table name, quoted for this database."""
    return connection.ops.quote_name(model._meta.db_table)


def columns(model, alias: str) -> str:
    """`alias.col1, alias.col2, …`: every concrete column of `model`, in field order
    (the order `instance` reads them back in)."""
    quote = connection.ops.quote_name
    return ", ".join(f"{alias}.{quote(field.column)}" for field in model._meta.concrete_fields)


@functools.cache
def _converters(model, vendor: str) -> list:
    """For each concrete field: its column and the conversions the ORM applies on reading it."""
    found = []
    for field in model._meta.concrete_fields:
        column = field.get_col(model._meta.db_table)
        found.append((column, connection.ops.get_db_converters(column) + field.get_db_converters(connection)))
    return found


def instance(model, row, start: int = 0):
    """The `model` instance in `row[start:start + n]` (the columns of `columns(model, …)`),
    as the ORM would load it; None when that part of the row is all NULL (an outer
    join that found nothing)."""
    converters = _converters(model, connection.vendor)
    values = list(row[start:start + len(converters)])
    if all(value is None for value in values):
        return None
    for index, (column, functions) in enumerate(converters):
        for convert in functions:
            values[index] = convert(values[index], column, connection)
    return model.from_db(connection.alias, None, values)


def width(model) -> int:
    return len(model._meta.concrete_fields)


def insert_sql(obj, *, select_from=(), on_conflict_do_nothing=False, **expressions) -> tuple[str, list]:
    """`INSERT INTO <obj's table> …` for the unsaved `obj`, each column holding what the
    ORM's own INSERT would send (defaults, auto_now, JSON adaptation), except the columns
    given as SQL `expressions` over the CTEs in `select_from` (ids inserted earlier in
    the same statement). The primary key is left to the database."""
    quote = connection.ops.quote_name
    names, values, params = [], [], []
    for field in obj._meta.concrete_fields:
        if field.primary_key and field.column not in expressions and getattr(obj, field.attname) is None:
            continue
        names.append(quote(field.column))
        if field.column in expressions:
            values.append(expressions.pop(field.column))
        else:
            values.append("%s")
            params.append(field.get_db_prep_save(field.pre_save(obj, add=True), connection))
    if expressions:
        raise TypeError(f"Not columns of {obj._meta.db_table}: {', '.join(sorted(expressions))}")
    if select_from:
        source = f"SELECT {', '.join(values)} FROM {', '.join(select_from)}"
    else:
        source = f"VALUES ({', '.join(values)})"
    sql = f"INSERT INTO {table(obj)} ({', '.join(names)}) {source}"
    return sql + (" ON CONFLICT DO NOTHING" if on_conflict_do_nothing else ""), params


def execute_alone(sql: str, params) -> None:
    """Run one statement that is atomic by itself. In autocommit mode it needs no BEGIN/COMMIT round trips; inside a transaction it runs
    under a savepoint, so an IntegrityError leaves the caller's transaction usable, as
    the ORM's own save() does."""
    if connection.in_atomic_block:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, params)
        return
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def write_together(statements: list[tuple[str, list]]) -> None:
    """Several writes that read nothing of each other, as one atomic unit: on PostgreSQL
    ONE statement, the first ones as data-modifying CTEs, which PostgreSQL runs to
    completion whether or not the last one reads them; elsewhere one after another in
    a transaction. A single round trip instead of one per write plus BEGIN and COMMIT."""
    if connection.vendor == "postgresql":
        *first, (last_sql, last_params) = statements
        sql = ("WITH " + ", ".join(f"write{index} AS ({statement})" for index, (statement, _) in enumerate(first))
               + " " + last_sql) if first else last_sql
        with connection.cursor() as cursor:
            cursor.execute(sql, [param for _, params in statements for param in params])
        return
    with transaction.atomic(), connection.cursor() as cursor:
        for statement, params in statements:
            cursor.execute(statement, params)


def insert(obj) -> None:
    """Save the unsaved `obj` with one INSERT, setting its primary key: what
    `obj.save(force_insert=True)` does (inside the caller's transaction, if any), minus
    model signals, which none of the models saved this way has."""
    pk = obj._meta.pk
    sql, params = insert_sql(obj)
    with connection.cursor() as cursor:
        cursor.execute(sql + f" RETURNING {connection.ops.quote_name(pk.column)}", params)
        row = cursor.fetchone()
    if getattr(obj, pk.attname) is None:
        setattr(obj, pk.attname, row[0])
    obj._state.adding, obj._state.db = False, connection.alias
