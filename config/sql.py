"""Hand-written SQL for the few hot paths (the SAML ACS, SCIM provisioning, new
sessions) where the ORM's cost per statement matters: building a query takes about
1 ms of Python on a slow core, running the same SQL through a cursor 0.1 ms.

Every table, column list, value and model instance comes from the models' own field
metadata and the ORM's own conversions, so nothing here (or in the fast paths built
from it: scim/fastpath.py, sso/fastpath.py) repeats a schema by hand: a new field is
picked up, and values read back are exactly what the ORM would give (datetimes on
SQLite, JSON, …). Instances are made by `Model.from_db`, as the ORM makes them;
nothing here writes Django's private attributes.
"""
import functools
from dataclasses import dataclass

from django.core.exceptions import FieldDoesNotExist
from django.db import connection, transaction


def table(model) -> str:
    """`model`'s table name, quoted for this database."""
    return connection.ops.quote_name(model._meta.db_table)


def _field(model, name: str):
    """`model`'s concrete field called `name` (its name or attname; "pk" for the primary key)."""
    if name == "pk":
        return model._meta.pk
    try:
        return model._meta.get_field(name)
    except FieldDoesNotExist:
        raise TypeError(f"{model._meta.label} has no field {name!r}") from None


def column(model, name: str, alias: str | None = None) -> str:
    """The quoted column of `model`'s field `name` (its name or attname; "pk" for the
    primary key), as `alias.column` when an alias (or a CTE's name) is given."""
    quoted = connection.ops.quote_name(_field(model, name).column)
    return f"{alias}.{quoted}" if alias else quoted


def param(model, name: str, value):
    """`value` for `model`'s field `name` as the ORM sends it to this database."""
    return _field(model, name).get_db_prep_save(value, connection)


def columns(model, alias: str | None = None) -> str:
    """`alias.col1, alias.col2, …` (unqualified without an alias): every concrete column
    of `model`, in field order (the order `instance` reads them back in)."""
    quote = connection.ops.quote_name
    prefix = f"{alias}." if alias else ""
    return ", ".join(f"{prefix}{quote(field.column)}" for field in model._meta.concrete_fields)


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


def insert_sql(obj, *, select_from=(), where: str = "", on_conflict_do_nothing=False, returning=False,
               **expressions) -> tuple[str, list]:
    """`INSERT INTO <obj's table> …` for the unsaved `obj`, each column holding what the
    ORM's own INSERT would send (defaults, auto_now, JSON adaptation), except the fields
    given (by name or attname) as SQL `expressions` (text, or text and its parameters)
    over the tables or CTEs in `select_from` (ids inserted earlier in the same
    statement), for the rows of those that match `where`. The primary key is left to
    the database. `returning`: the new row's every column, for `instance`."""
    quote = connection.ops.quote_name
    chosen = {_field(obj, name).column: expression for name, expression in expressions.items()}
    names, values, params = [], [], []
    for field in obj._meta.concrete_fields:
        if field.primary_key and field.column not in chosen and getattr(obj, field.attname) is None:
            continue
        names.append(quote(field.column))
        if field.column in chosen:
            expression, expression_params = (chosen[field.column], []) if isinstance(chosen[field.column], str) \
                else chosen[field.column]
            values.append(expression)
            params.extend(expression_params)
        else:
            values.append("%s")
            params.append(field.get_db_prep_save(field.pre_save(obj, add=True), connection))
    if select_from:
        source = f"SELECT {', '.join(values)} FROM {', '.join(select_from)}" + (f" WHERE {where}" if where else "")
    else:
        source = f"VALUES ({', '.join(values)})"
    sql = f"INSERT INTO {table(obj)} ({', '.join(names)}) {source}"
    if on_conflict_do_nothing:
        sql += " ON CONFLICT DO NOTHING"
    if returning:
        sql += f" RETURNING {columns(type(obj))}"
    return sql, params


def any_of(model, name: str, alias: str | None = None) -> str:
    """PostgreSQL: `column = ANY(%s::<its type>[])`, for one parameter holding a list of values."""
    return f"{column(model, name, alias)} = ANY(%s::{_field(model, name).rel_db_type(connection)}[])"


def update_sql(obj, fields) -> tuple[str, list]:
    """`UPDATE` of the saved `obj`'s `fields` (names or attnames) to what
    `obj.save(update_fields=fields)` would send (auto_now fields set on `obj` too), by
    its primary key."""
    sets, params = [], []
    for name in fields:
        field = _field(obj, name)
        sets.append(f"{connection.ops.quote_name(field.column)} = %s")
        params.append(field.get_db_prep_save(field.pre_save(obj, add=False), connection))
    pk = obj._meta.pk
    return (f"UPDATE {table(obj)} SET {', '.join(sets)} WHERE {column(obj, 'pk')} = %s",
            params + [pk.get_db_prep_value(obj.pk, connection)])


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


def insert(obj):
    """Save the unsaved `obj` with one INSERT (inside the caller's transaction, if any),
    minus model signals, which none of the models saved this way has: `obj` gets its
    primary key, and the row as stored is returned as the ORM loads it, the instance
    `obj.save(force_insert=True)` would have left behind."""
    sql, params = insert_sql(obj, returning=True)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        saved = instance(type(obj), cursor.fetchone())
    obj.pk = saved.pk
    return saved


_compiled: dict = {}


@dataclass(frozen=True)
class Compiled:
    """A queryset's SQL as the ORM compiled it: `params` with the sentinel at `index`, and
    `layout`, where each model's columns start in a row and how its object hangs from its
    parent (select_related, forward or reverse), for `instances`."""

    sql: str
    params: tuple
    indices: tuple  # where each sentinel sits among the parameters
    layout: tuple  # (model, start, local_setter, remote_setter, children)

    def run(self, *values) -> list:
        """The rows with `values` in the sentinels' places, as the ORM would load them."""
        params = list(self.params)
        for index, value in zip(self.indices, values, strict=True):
            params[index] = value
        with connection.cursor() as cursor:
            cursor.execute(self.sql, params)
            return [self.instances(row) for row in cursor.fetchall()]

    def instances(self, row):
        model, start, _, _, children = self.layout
        root = instance(model, row, start)
        _attach(root, children, row)
        return root


def _attach(parent, children, row) -> None:
    """Hang each related object from `parent` with the setters the ORM's compiler chose,
    as its RelatedPopulator does (None too: "there is none" is remembered)."""
    for model, start, local_setter, remote_setter, grandchildren in children:
        obj = instance(model, row, start)
        if obj is not None:
            _attach(obj, grandchildren, row)
        local_setter(parent, obj)
        if obj is not None:
            remote_setter(obj, parent)


def _layout(klass_info) -> tuple:
    children = tuple(_layout(related) for related in klass_info.get("related_klass_infos", ()))
    return (klass_info["model"], klass_info["select_fields"][0], klass_info.get("local_setter"),
            klass_info.get("remote_setter"), children)


def _models(layout):
    model, start, _, _, children = layout
    yield model, start
    for child in children:
        yield from _models(child)


def compiled(key, build, *sentinels) -> Compiled:
    """The SQL the ORM compiles for the queryset `build(*sentinels)`, once per database and
    `key` (which must change whenever the query's shape would), with where each sentinel — a
    value no real argument takes — sits among its parameters. A hot read whose shape never
    changes then runs the ORM's own SQL with the real values there (`Compiled.run`): nothing
    typed by hand, and none of the ORM's cost of building and compiling per call."""
    cache_key = (key, connection.vendor)
    found = _compiled.get(cache_key)
    if found is None:
        compiler = build(*sentinels).query.get_compiler(connection=connection)
        query, params = compiler.as_sql()
        params = tuple(params)
        for sentinel in sentinels:
            if params.count(sentinel) != 1:
                raise ValueError(f"{key}: a sentinel must be one parameter of the query, found {params.count(sentinel)}")
        layout = _layout(compiler.klass_info)
        for model, start in _models(layout):
            if [column.target for column, *_ in compiler.select[start:start + width(model)]] != list(
                    model._meta.concrete_fields):
                raise ValueError(f"{key}: {model.__name__}'s columns are not where `instance` reads them")
        found = _compiled[cache_key] = Compiled(query, params, tuple(params.index(sentinel) for sentinel in sentinels),
                                                layout)
    return found


def counter_triggers(db, counted, counter, field: str, key: str = "org") -> tuple[list[str], list[str]]:
    """The statements that make database `db` keep `counter.<field>` equal to the number
    of `counted` rows with the same `key` (a foreign key, which is `counter`'s primary
    key), in the same transaction as each INSERT, DELETE, or UPDATE of the key — whatever
    path wrote them: services, set-based statements, fast paths, cascades. A missing
    `counter` row means 0. Returns (create statements, drop statements).

    PostgreSQL: statement-level triggers over transition tables, so a set-based INSERT of
    50,000 rows updates each counter row once (in key order: two statements never wait
    on each other's counters in opposite orders). SQLite: row-level triggers."""
    quote = db.ops.quote_name
    rows, total = quote(counted._meta.db_table), quote(counter._meta.db_table)
    key_column = quote(counted._meta.get_field(key).column)
    counter_key = quote(counter._meta.pk.column)
    value = quote(counter._meta.get_field(field).column)
    name = f"{counted._meta.db_table}_{field}_count"
    if db.vendor == "postgresql":
        body = {
            "add": (f"INSERT INTO {total} ({counter_key}, {value}) SELECT {key_column}, count(*) FROM new_rows "
                    f"GROUP BY {key_column} ORDER BY {key_column} ON CONFLICT ({counter_key}) "
                    f"DO UPDATE SET {value} = {total}.{value} + EXCLUDED.{value}"),
            "remove": (f"UPDATE {total} SET {value} = {total}.{value} - gone.n FROM (SELECT {key_column}, count(*) AS n "
                       f"FROM old_rows GROUP BY {key_column}) gone WHERE {total}.{counter_key} = gone.{key_column}"),
        }
        pk = quote(counted._meta.pk.column)
        moved = (f"SELECT o.{key_column} AS was, n.{key_column} AS now FROM old_rows o JOIN new_rows n "
                 f"ON o.{pk} = n.{pk} WHERE o.{key_column} IS DISTINCT FROM n.{key_column}")
        functions = {
            "insert": ("NEW TABLE AS new_rows", body["add"] + ";"),
            "delete": ("OLD TABLE AS old_rows", body["remove"] + ";"),
            "update": ("OLD TABLE AS old_rows NEW TABLE AS new_rows",
                       f"IF EXISTS ({moved}) THEN "
                       f"{body['add'].replace('FROM new_rows', f'FROM ({moved}) m(x, {key_column})')}; "
                       f"{body['remove'].replace('FROM old_rows', f'FROM ({moved}) m({key_column}, x)')}; END IF;"),
        }
        create, drop = [], []
        for event, (referencing, statements) in functions.items():
            function = quote(f"{name}_{event}")
            create += [f"CREATE OR REPLACE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $$ "
                       f"BEGIN {statements} RETURN NULL; END $$",
                       f"CREATE TRIGGER {quote(f'{name}_{event}')} AFTER {event.upper()} ON {rows} "
                       f"REFERENCING {referencing} FOR EACH STATEMENT EXECUTE FUNCTION {function}()"]
            drop += [f"DROP TRIGGER IF EXISTS {quote(f'{name}_{event}')} ON {rows}",
                     f"DROP FUNCTION IF EXISTS {function}()"]
        return create, drop
    add = (lambda row: f"INSERT INTO {total} ({counter_key}, {value}) VALUES ({row}.{key_column}, 1) "
                       f"ON CONFLICT ({counter_key}) DO UPDATE SET {value} = {value} + 1;")
    remove = (lambda row: f"UPDATE {total} SET {value} = {value} - 1 WHERE {counter_key} = {row}.{key_column};")
    create = [
        f"CREATE TRIGGER {quote(f'{name}_insert')} AFTER INSERT ON {rows} BEGIN {add('NEW')} END",
        f"CREATE TRIGGER {quote(f'{name}_delete')} AFTER DELETE ON {rows} BEGIN {remove('OLD')} END",
        f"CREATE TRIGGER {quote(f'{name}_update')} AFTER UPDATE OF {key_column} ON {rows} "
        f"WHEN OLD.{key_column} IS NOT NEW.{key_column} BEGIN {add('NEW')} {remove('OLD')} END",
    ]
    return create, [f"DROP TRIGGER IF EXISTS {quote(f'{name}_{event}')}" for event in ("insert", "delete", "update")]


def count_from(db, counted, counter, field: str, key: str = "org") -> str:
    """The statement that sets every `counter` row from a count of `counted` (after
    creating the triggers: the rows as they are now)."""
    quote = db.ops.quote_name
    key_column = quote(counted._meta.get_field(key).column)
    return (f"INSERT INTO {quote(counter._meta.db_table)} ({quote(counter._meta.pk.column)}, "
            f"{quote(counter._meta.get_field(field).column)}) SELECT {key_column}, count(*) "
            f"FROM {quote(counted._meta.db_table)} GROUP BY {key_column}")


def keep_count(app_label: str, counted: str, counter: str, field: str, key: str = "org"):
    """The migration operation that makes the triggers of `counter_triggers` for the
    models `app_label.counted` and `app_label.counter`, then sets the counts as they
    are; reversed, it drops them."""
    from django.db import migrations

    def models(apps):
        return apps.get_model(app_label, counted), apps.get_model(app_label, counter), field, key

    def create(apps, schema_editor):
        db = schema_editor.connection
        statements, _ = counter_triggers(db, *models(apps))
        for statement in statements + [count_from(db, *models(apps))]:
            schema_editor.execute(statement, params=None)

    def drop(apps, schema_editor):
        for statement in counter_triggers(schema_editor.connection, *models(apps))[1]:
            schema_editor.execute(statement, params=None)

    return migrations.RunPython(create, drop)
