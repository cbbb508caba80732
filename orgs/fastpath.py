"""Reads on every API request, without the ORM's cost (STYLE: fast paths are fenced): the
caller's organizations (`GET /api/v1/user`) and a service token by its hash. Each runs
the SQL the ORM compiles for its twin — selectors.memberships_of, and
`service_token_by_hash_orm`, what services.service_token_authenticate read before —
compiled once (config.sql.compiled: the access policies' conditions included, nothing
typed by hand), and is equivalence-tested against it (tests/orgs/test_fastpath.py).
Building and compiling these queries cost the ORM 1–2.5 ms of Python per call on a slow
core, running their SQL through a cursor 0.3–0.5 ms (bench/api_profile.py)."""
from config import sql

from . import policy, selectors
from .models import Membership, ServiceToken

# No account has this id, no token this hash: where they sit among the compiled query's
# parameters, the caller's go.
_NOBODY = -7_340_033
_NO_HASH = "not a sha-256: the place of the token's hash"


def memberships_of(user) -> list[Membership]:
    """list(selectors.memberships_of(user)), each membership with its organization."""
    return sql.compiled(("memberships_of", policy.access_blocks_registered()), selectors.memberships_of,
                        _NOBODY).run(user.pk)


def service_token_by_hash_orm(digest: str):
    """The live token with this SHA-256, with its organization and creator: a queryset of at most one."""
    return (ServiceToken.objects.select_related("org", "created_by")
            .filter(token_hash=digest, revoked_at__isnull=True).order_by("pk")[:1])


def service_token_by_hash(digest: str) -> ServiceToken | None:
    """service_token_by_hash_orm's token, or None."""
    found = sql.compiled("service_token_by_hash", service_token_by_hash_orm, _NO_HASH).run(digest)
    return found[0] if found else None
