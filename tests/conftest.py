"""A small world for every test: two organizations, an admin and a member in the first,
an outsider who administers the second.

Tests cite rules by id (E1, DS3, "SPEC §7"): docs/rules.md."""
import pytest
from django.test import Client
from django.utils import timezone

from accounts.models import User
from orgs.models import Membership, Organization, Plan
from orgs.services import membership_add, organization_create

PASSWORD = "correct horse battery staple"


def pytest_runtest_setup(item):
    """Tests marked `postgres` (concurrency, locking, the PostgreSQL-only fast paths) skip
    on SQLite, with the reason; with REQUIRE_POSTGRES=1 (CI) they fail instead, so CI
    never passes without them."""
    if item.get_closest_marker("postgres") is None:
        return
    import os

    from django.db import connection

    if connection.vendor == "postgresql":
        return
    reason = "needs PostgreSQL (DATABASE_URL=postgres://…)"
    if os.environ.get("REQUIRE_POSTGRES") == "1":
        pytest.fail(reason + ", and REQUIRE_POSTGRES=1")
    pytest.skip(reason)


@pytest.fixture(autouse=True)
def _fast_hashing_and_fresh_cache(settings):
    # Argon2 is deliberately slow; tests that do not test hashing use a fast hasher.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    # No collectstatic in tests: serve from the finders, without a manifest.
    settings.STORAGES = {**settings.STORAGES,
                         "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
    from django.core.cache import cache

    from scim import limits

    cache.clear()
    limits.forget_process_counts()


def counts_kept() -> list[str]:
    """Where a per-organization counter kept by the database (orgs.MemberCount,
    scim.DirectoryUserCount) differs from a COUNT of its rows: empty when every path
    that added or removed a member or directory user kept it."""
    from django.db.models import Count

    from orgs.models import MemberCount
    from scim.models import DirectoryUser, DirectoryUserCount

    wrong = []
    for counted, counter, field in ((Membership, MemberCount, "members"), (DirectoryUser, DirectoryUserCount, "users")):
        actual = dict(counted.objects.values_list("org_id").annotate(n=Count("pk")).values_list("org_id", "n"))
        kept = {org: n for org, n in counter.objects.values_list("org_id", field) if n}
        if kept != actual:
            wrong.append(f"{counter.__name__}: kept {kept}, counted {actual}")
    return wrong


@pytest.fixture(autouse=True)
def _counters_kept(request):
    """After every test that used the database: the member and directory-user counters
    equal a COUNT of the rows, whatever paths the test took (services, set-based SCIM
    statements, the fast paths, cascades)."""
    marker = request.node.get_closest_marker("django_db")
    if not {"db", "transactional_db"} & set(request.fixturenames) and marker is None:
        yield
        return
    transactional = "transactional_db" in request.fixturenames or (marker and marker.kwargs.get("transaction"))
    request.getfixturevalue("transactional_db" if transactional else "db")
    yield
    from django.db import connection

    if connection.needs_rollback or not connection.is_usable():
        return  # the test left the transaction broken on purpose; nothing can be read
    wrong = counts_kept()
    assert not wrong, "a path forgot a counter: " + "; ".join(wrong)


def make_user(email: str, password: str | None = PASSWORD, **fields) -> User:
    """A usable account: its address verified (E14) unless the test passes email_verified_at=None."""
    fields.setdefault("email_verified_at", timezone.now())
    return User.objects.create_user(email, password, **fields)


@pytest.fixture
def admin_user(db) -> User:
    return make_user("ada@acme.test", first_name="Ada", last_name="Admin")


@pytest.fixture
def member_user(db) -> User:
    return make_user("max@acme.test", first_name="Max", last_name="Member")


@pytest.fixture
def outsider(db) -> User:
    return make_user("olga@other.test", first_name="Olga", last_name="Outsider")


@pytest.fixture
def org(admin_user) -> Organization:
    return organization_create(slug="acme", name="Acme", creator=admin_user, plan=Plan.ENTERPRISE)


@pytest.fixture
def member(org, member_user) -> Membership:
    return membership_add(org=org, user=member_user, role=Membership.Role.MEMBER, actor=None)


@pytest.fixture
def admin_membership(org, admin_user) -> Membership:
    return Membership.objects.get(org=org, user=admin_user)


@pytest.fixture
def other_org(outsider) -> Organization:
    return organization_create(slug="other", name="Other Inc", creator=outsider)


def client_for(user: User) -> Client:
    client = Client()
    client.force_login(user, backend="accounts.backends.EmailBackend")
    return client


def sso_client_for(user: User, org: Organization) -> Client:
    """A client whose session `org`'s IdP made just now (as the ACS leaves it, without
    running a SAML exchange): what an SSO-enforcing organization asks of a session (E12)."""
    import time

    from sso.sessions import SESSION_KEY

    client = Client()
    client.force_login(user, backend="accounts.backends.IdentityProviderBackend")
    session = client.session
    session[SESSION_KEY] = {str(org.pk): {"at": int(time.time()), "name_id": user.email, "index": ""}}
    session.save()
    return client


@pytest.fixture
def admin_client(admin_user) -> Client:
    return client_for(admin_user)


@pytest.fixture
def member_client(member_user) -> Client:
    return client_for(member_user)


@pytest.fixture
def outsider_client(outsider) -> Client:
    return client_for(outsider)


# Celery ----------------------------------------------------------------------
# Tests run tasks eagerly, in-process, whatever REDIS_URL says; the worker tests
# below switch to a real worker on Redis for the duration of one test.


@pytest.fixture(autouse=True, scope="session")
def _celery_eager():
    from config.celery import app

    app.conf.task_always_eager = True
    app.conf.task_eager_propagates = True
    yield


def redis_url_or_skip() -> str:
    import os

    url = os.environ.get("REDIS_URL", "")
    reason = "a real Celery worker needs Redis (REDIS_URL)"
    if not url:
        if os.environ.get("REQUIRE_REDIS") == "1":
            pytest.fail(reason + ", and REQUIRE_REDIS=1")
        pytest.skip(reason)
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except redis.RedisError:
        if os.environ.get("REQUIRE_REDIS") == "1":
            pytest.fail(f"Redis at {url} is not reachable, and REQUIRE_REDIS=1")
        pytest.skip(f"Redis at {url} is not reachable")
    return url


@pytest.fixture
def celery_worker_process(transactional_db, settings):
    """A real `celery worker` subprocess on Redis, reading the test database.

    Needs PostgreSQL (the worker must see committed rows of the test database)
    and Redis; each test gets its own queue, so stray workers never steal its
    tasks. Yields a handle with `.stop()` (SIGKILL, to simulate a crash) and
    `.start()` to bring a new worker up."""
    import os
    import shutil
    import signal
    import subprocess
    import sys
    import time
    import tempfile
    import uuid
    from pathlib import Path

    from django.db import connection

    from config.celery import app

    redis_url = redis_url_or_skip()
    if connection.vendor != "postgresql":
        pytest.skip("the real-worker test needs PostgreSQL (DATABASE_URL)")
    db = connection.settings_dict
    database_url = f"postgres://{db['USER'] or 'postgres'}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    queue = f"test-{uuid.uuid4().hex[:12]}"
    hostname = f"{queue}@localhost"
    outbox = Path(tempfile.mkdtemp(prefix="gh-worker-mail-"))
    root = Path(__file__).resolve().parent.parent

    class Worker:
        proc: subprocess.Popen | None = None
        mail_dir = outbox

        def sent_mail(self) -> list[str]:
            """Emails the worker sent (file backend), oldest first."""
            return [p.read_text() for p in sorted(outbox.glob("*.log"), key=lambda p: p.stat().st_mtime)]

        def start(self):
            env = {**os.environ, "DATABASE_URL": database_url, "REDIS_URL": redis_url, "CELERY_QUEUE": queue,
                   "CONN_MAX_AGE": "0", "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
                   "EMAIL_FILE_PATH": str(outbox)}
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=solo", "--concurrency=1",
                 "-Q", queue, "-n", hostname, "--without-heartbeat", "--without-gossip", "--without-mingle", "-l", "WARNING"],
                cwd=root, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True,
            )
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                try:
                    if app.control.ping(timeout=0.5, destination=[hostname]):
                        return self
                except Exception:  # noqa: BLE001 - broker not answering yet
                    pass
                if self.proc.poll() is not None:
                    raise RuntimeError("celery worker exited: " + self.proc.stdout.read().decode(errors="replace"))
            raise RuntimeError("celery worker did not start within 30 s")

        def stop(self, sig=signal.SIGKILL):
            if self.proc and self.proc.poll() is None:
                os.killpg(self.proc.pid, sig)
                self.proc.wait(timeout=10)

    old = (app.conf.task_always_eager, app.conf.task_default_queue)
    app.conf.task_always_eager = False
    app.conf.task_default_queue = queue
    worker = Worker()
    worker.start()
    try:
        yield worker
    finally:
        worker.stop()
        app.conf.task_always_eager, app.conf.task_default_queue = old
        shutil.rmtree(outbox, ignore_errors=True)


# A Redis of the test's own -------------------------------------------------------
# Fault tests stop, freeze (SIGSTOP) and kill it; the shared Redis (REDIS_URL) is never touched.


class OwnRedis:
    def __init__(self, proc, port: int):
        self.proc, self.port = proc, port
        self.url = f"redis://127.0.0.1:{port}/0"

    def freeze(self):
        import os
        import signal

        os.kill(self.proc.pid, signal.SIGSTOP)

    def thaw(self):
        import os
        import signal

        os.kill(self.proc.pid, signal.SIGCONT)

    def kill(self):
        if self.proc.poll() is None:
            self.thaw()
            self.proc.kill()
            self.proc.wait(timeout=10)

    def restart(self):
        """Killed (if it is not) and started again on the same port, empty."""
        self.kill()
        self.proc = _start_redis_server(self.port)


def _start_redis_server(port: int):
    import subprocess
    import time

    import redis

    proc = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                             "--appendonly", "no", "--daemonize", "no"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while True:
        try:
            redis.Redis.from_url(f"redis://127.0.0.1:{port}/0", socket_connect_timeout=0.2).ping()
            return proc
        except redis.RedisError:
            if time.monotonic() > deadline or proc.poll() is not None:
                proc.kill()
                raise RuntimeError("redis-server did not start") from None
            time.sleep(0.05)


@pytest.fixture
def own_redis():
    """A `redis-server` subprocess on a free port, killed after the test; skipped when
    redis-server is not installed, unless REQUIRE_REDIS=1."""
    import os
    import shutil
    import socket

    if not shutil.which("redis-server"):
        if os.environ.get("REQUIRE_REDIS") == "1":
            pytest.fail("redis-server is not installed, and REQUIRE_REDIS=1")
        pytest.skip("redis-server is not installed")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = OwnRedis(_start_redis_server(port), port)
    try:
        yield server
    finally:
        server.kill()


@pytest.fixture
def redis_cache(own_redis, settings):
    """The default cache on the test's own Redis, with the clients' production timeouts."""
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                                   "LOCATION": own_redis.url, "OPTIONS": settings.REDIS_CLIENT_OPTIONS}}
    yield own_redis


@pytest.fixture
def celery_broker(own_redis):
    """Tasks are sent (not run eagerly) to the test's own Redis, with the production
    client timeouts and publish retry policy; nothing consumes them."""
    from django.conf import settings

    from config.celery import app

    old = (app.conf.task_always_eager, app.conf.broker_url, app.conf.broker_transport_options,
           app.conf.broker_connection_timeout)
    app.conf.task_always_eager = False
    app.conf.broker_url = own_redis.url
    app.conf.broker_transport_options = dict(settings.REDIS_CLIENT_OPTIONS)
    app.conf.broker_connection_timeout = settings.REDIS_TIMEOUT_SECONDS
    app._after_fork()  # drop pooled connections to the previous broker
    try:
        yield own_redis
    finally:
        (app.conf.task_always_eager, app.conf.broker_url, app.conf.broker_transport_options,
         app.conf.broker_connection_timeout) = old
        app._after_fork()


@pytest.fixture
def fresh_fault_log():
    """config.faults.warn_throttled forgets what it logged, so a test sees the first report."""
    from config import faults

    faults._warned_at.clear()
    faults._unreported.clear()
    yield
    faults._warned_at.clear()
    faults._unreported.clear()


def database_down():
    """While in this context, every query fails as with PostgreSQL unreachable
    (OperationalError on connecting); the test's own transaction is untouched."""
    from unittest import mock

    from django.db import OperationalError, connections

    return mock.patch.object(connections["default"], "ensure_connection",
                             side_effect=OperationalError("connection to server failed: Connection refused"))
