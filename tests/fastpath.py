"""Running an ORM path and its fast path (scim/fastpath.py, sso/fastpath.py) on the
same input, for tests/*/test_fastpath.py: what each wrote (every column of every row
inserted, updated or deleted, in every table) and what it returned, with what differs
between two runs by nature written as its kind: ids of rows the run made (numbered per
table in id order, and replaced wherever they are referred to, audit targets
included), times the run took place in, random unusable passwords and event ids.

Each run happens in a savepoint that is rolled back, so both paths start from the same
database and the test's world is left as it was."""
import dataclasses
from datetime import datetime

from django.apps import apps
from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
from django.db import connection, models, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

TRANSACTION_CONTROL = ("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT", "BEGIN", "COMMIT")


@dataclasses.dataclass
class Run:
    returned: object  # the path's return value, normalised (model instances as their fields)
    written: dict  # {table: {"inserted": [...], "updated": [...], "deleted": [...]}}; tables written only
    statements: list = dataclasses.field(default_factory=list, compare=False)  # what it ran, transaction control aside


def _derived() -> set:
    """Tables the database keeps from others (per-organization counters, by triggers):
    not compared as writes; instead each run checks, before its rollback, that they
    still equal the counts of the rows the run left (tests.conftest.counts_kept)."""
    from orgs.models import MemberCount
    from scim.models import DirectoryUserCount

    return {MemberCount, DirectoryUserCount}


def _tables() -> list[type[models.Model]]:
    derived = _derived()
    return [model for model in apps.get_models(include_auto_created=True)
            if not model._meta.proxy and model not in derived]


def _snapshot() -> dict:
    return {model: {row["pk"]: row for row in model._base_manager.values(
        "pk", *(field.attname for field in model._meta.concrete_fields))} for model in _tables()}


def run(path, **kwargs) -> Run:
    """`path(**kwargs)` in a savepoint rolled back afterwards: what it returned and wrote."""
    before = _snapshot()
    started = timezone.now()
    with transaction.atomic():
        with CaptureQueriesContext(connection) as captured:
            returned = path(**kwargs)
        after = _snapshot()
        _assert_counts_kept(path)
        transaction.set_rollback(True)
    result = _Normaliser(before, after, started, timezone.now()).run(returned)
    result.statements = [query["sql"] for query in captured.captured_queries
                         if not query["sql"].upper().startswith(TRANSACTION_CONTROL)]
    return result


def _assert_counts_kept(path) -> None:
    from tests.conftest import counts_kept

    wrong = counts_kept()
    assert not wrong, f"{path.__qualname__} left a counter wrong: " + "; ".join(wrong)


def run_raising(path, **kwargs) -> tuple[type, str, dict]:
    """The exception `path(**kwargs)` raises (class and message), and what it had written
    by then (nothing, if it is atomic), in a savepoint rolled back afterwards."""
    before = _snapshot()
    with transaction.atomic():
        try:
            path(**kwargs)
        except Exception as exc:  # noqa: BLE001 — compared by the test
            raised = exc
        else:
            raise AssertionError(f"{path.__qualname__} raised nothing")
        after = _snapshot()
        transaction.set_rollback(True)
    return type(raised), str(raised), _Normaliser(before, after, timezone.now(), timezone.now()).run(None).written


class _Normaliser:
    def __init__(self, before: dict, after: dict, started: datetime, ended: datetime):
        self.before, self.after, self.started, self.ended = before, after, started, ended
        # Rows the run made, per model: their ids, numbered in id order.
        self.new_ids = {model: {pk: f"<new {model._meta.model_name} {number}>"
                                for number, pk in enumerate(sorted(set(after[model]) - set(before[model])), 1)}
                        for model in after}
        self.by_name = {model._meta.model_name: model for model in after}

    def run(self, returned) -> Run:
        written = {}
        for model in self.after:
            old, new = self.before[model], self.after[model]
            changes = {
                "inserted": [self.row(model, new[pk]) for pk in sorted(set(new) - set(old))],
                "updated": [self.row(model, new[pk]) for pk in sorted(set(new) & set(old)) if new[pk] != old[pk]],
                "deleted": [self.row(model, old[pk]) for pk in sorted(set(old) - set(new))],
            }
            if any(changes.values()):
                written[model._meta.db_table] = changes
        return Run(returned=self.value(returned), written=written)

    def row(self, model, row: dict) -> dict:
        result = {}
        for field in model._meta.concrete_fields:
            value = row[field.attname]
            if field.primary_key:
                value = self.new_ids[model].get(value, value)
            elif field.is_relation and value is not None:
                value = self.new_ids[field.related_model._meta.concrete_model].get(value, value)
            elif field.attname == "target_id" and row.get("target_type") in self.by_name and value:
                target = self.by_name[row["target_type"]]
                value = self.new_ids[target].get(target._meta.pk.to_python(value), value)
            result[field.attname] = self.scalar(field, value)
        return result

    def scalar(self, field, value):
        if isinstance(value, datetime) and self.started <= value <= self.ended:
            return "<during the run>"
        if field.attname == "password" and isinstance(value, str) and value.startswith(UNUSABLE_PASSWORD_PREFIX):
            return "<unusable password>"
        if field.attname == "public_id" and isinstance(value, str) and value.startswith("evt_"):
            return "<random event id>"
        return value

    def value(self, value):
        """A returned value: model instances as every field (and whether saved), with the
        related instances they hold; dataclasses as their fields; containers item by item."""
        if isinstance(value, models.Model):
            model = value._meta.concrete_model
            fields = self.row(model, {field.attname: getattr(value, field.attname)
                                      for field in model._meta.concrete_fields})
            related = {field.name: self.value(field.get_cached_value(value))
                       for field in model._meta.concrete_fields if field.is_relation and field.is_cached(value)}
            return {"model": model._meta.label, "saved": not value._state.adding, "db": value._state.db,
                    "fields": fields, "related": related}
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            return {field.name: self.value(getattr(value, field.name)) for field in dataclasses.fields(value)}
        if isinstance(value, dict):
            return {key: self.value(item) for key, item in value.items()}
        if isinstance(value, (list, tuple)):
            return type(value)(self.value(item) for item in value)
        if isinstance(value, (set, frozenset)):
            return sorted((self.value(item) for item in value), key=repr)
        if isinstance(value, datetime) and self.started <= value <= self.ended:
            return "<during the run>"
        return value
