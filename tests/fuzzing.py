"""What the fuzz suites share (tests/api/test_fuzz_api.py, tests/scim/test_fuzz_scim.py,
tests/sso/test_fuzz_acs.py): how many examples Hypothesis runs, each example in a
transaction rolled back afterwards (every example starts from the same small world), and
a snapshot of every row of our apps, to prove that rejected input changed nothing.

CI runs FUZZ_EXAMPLES=15 per test (the default), derandomized so a run is repeatable; run
more with e.g. `FUZZ_EXAMPLES=500 FUZZ_RANDOM=1 .venv/bin/python -m pytest -q tests -k fuzz`.
"""
import os
from contextlib import contextmanager

from django.apps import apps
from django.db import transaction
from hypothesis import HealthCheck, settings

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES") or 15)

# Written by requests that are refused too, by design: a token's or an account's last use.
VOLATILE_FIELDS = {"last_used_at", "last_login"}
APPS = ("accounts", "orgs", "teams", "sso", "scim")


def fuzz_settings(examples: int = EXAMPLES) -> settings:
    return settings(max_examples=examples, derandomize=os.environ.get("FUZZ_RANDOM") != "1", deadline=None,
                    database=None, print_blob=True,
                    # The world's fixtures are function-scoped on purpose: each example rolls back to it.
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                           HealthCheck.filter_too_much, HealthCheck.data_too_large])


@contextmanager
def rolled_back():
    """Run one example, then undo every row it wrote (on_commit callbacks are dropped too)."""
    with transaction.atomic():
        yield
        transaction.set_rollback(True)


def rows(*, ignore: tuple[str, ...] = ()) -> dict:
    """Every row of our apps' tables (volatile fields left out), by model label."""
    snapshot = {}
    for label in APPS:
        for model in apps.get_app_config(label).get_models():
            if model._meta.label in ignore:
                continue
            fields = [field.attname for field in model._meta.concrete_fields if field.attname not in VOLATILE_FIELDS]
            snapshot[model._meta.label] = list(model._default_manager.order_by("pk").values_list(*fields))
    return snapshot


def changed(before: dict, after: dict) -> list[str]:
    return [label for label in before if before[label] != after.get(label)]
