"""The caller's organizations on every `GET /api/v1/user`, without the ORM's cost (STYLE:
fast paths are fenced). `memberships_of` runs the SQL the ORM compiles for its twin,
orgs.selectors.memberships_of, compiled once (config.sql.compiled) — the access
policies' conditions included, so nothing is typed by hand — and equivalence-tested
against it (tests/orgs/test_fastpath.py). Building that query (the policies' Q objects,
the joins) and compiling it cost the ORM about 2.5 ms of Python per call on a slow core,
running it through a cursor about 0.5 ms (bench/api_profile.py)."""
from django.db import connection

from config import sql

from . import policy, selectors
from .models import Membership, Organization

# No account has this id: where it sits among the compiled query's parameters, the caller's goes.
_NOBODY = -7_340_033


def memberships_of(user) -> list[Membership]:
    """list(selectors.memberships_of(user)), each membership with its organization."""
    query, params, index = sql.compiled(("memberships_of", policy.access_blocks_registered()),
                                        selectors.memberships_of, _NOBODY)
    params = list(params)
    params[index] = user.pk
    with connection.cursor() as cursor:
        cursor.execute(query, params)
        rows = cursor.fetchall()
    found = []
    for row in rows:
        membership = sql.instance(Membership, row)
        membership.org = sql.instance(Organization, row, sql.width(Membership))
        found.append(membership)
    return found
