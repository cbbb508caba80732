#!/usr/bin/env python3
"""The README's two commands, needing nothing but Python 3.11+:

    python3 dev.py run [ADDRESS]   # set up, load the demo, serve on http://localhost:8000 (BASE_URL follows ADDRESS)
    python3 dev.py test    # set up and run the whole test suite (extra args go to pytest)
    python3 dev.py bench [name …]   # the benchmarks in bench/ (all, or the named ones)
    python3 dev.py screenshots      # refresh the committed screenshots/ (Chromium; the tests write var/screenshots/)

Setting up means: a virtualenv in .venv with the pinned requirements
(requirements.lock), reinstalled only when that file changes.
"""
import hashlib
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PY = BIN / "python"
LOCK = ROOT / "requirements.lock"
STAMP = VENV / ".requirements.sha256"


def sh(*args, **kwargs) -> int:
    return subprocess.call([str(a) for a in args], cwd=ROOT, **kwargs)


def setup() -> None:
    if sys.version_info < (3, 11):
        sys.exit("Gatehouse needs Python 3.11 or newer.")
    if not PY.exists():
        print("Creating .venv …", flush=True)
        if sh(sys.executable, "-m", "venv", VENV):
            sys.exit("Could not create the virtualenv.")
    digest = hashlib.sha256(LOCK.read_bytes()).hexdigest()
    if not STAMP.exists() or STAMP.read_text() != digest:
        print("Installing pinned requirements …", flush=True)
        if sh(PY, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-r", LOCK):
            sys.exit("pip install failed.")
        STAMP.write_text(digest)


def base_url_for(address: str) -> str:
    """The BASE_URL of `runserver ADDRESS` (PORT, HOST:PORT or [IPv6]:PORT): the SP's URLs and
    the test IdP must point where the server listens. A loopback or wildcard address is
    called localhost, the name the quickstart opens."""
    host, _, port = address.rpartition(":")
    host = host.strip("[]")
    if host in ("", "0", "0.0.0.0", "127.0.0.1", "::", "::1", "localhost"):
        host = "localhost"
    elif ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port or 8000}"


def run(args: list[str]) -> int:
    setup()
    address = args[0] if args else "127.0.0.1:8000"
    env = {**os.environ, "DEBUG": os.environ.get("DEBUG", "true"), "SAML_TEST_IDP": os.environ.get("SAML_TEST_IDP", "true"),
           "BASE_URL": os.environ.get("BASE_URL") or base_url_for(address)}
    for step in (["migrate", "--no-input"], ["demo"]):
        if sh(PY, "manage.py", *step, env=env):
            return 1
    return sh(PY, "manage.py", "runserver", address, env=env)


def test(args: list[str]) -> int:
    setup()
    code = sh(PY, "-m", "pytest", *args)
    if code == 5:  # pytest: no tests collected (e.g. a -k that matches nothing) is not a failure of the suite
        print("pytest collected no tests.")
        return 0
    return code


BENCHMARKS = ["token_auth", "members_list", "acs", "acs_cpu", "acs_http", "sso_enable", "scim_provision", "scim_groups",
              "scim_group_lock", "scim_filter", "side_by_side", "api_profile", "audit_export", "webhooks_drain", "million"]


def bench(names: list[str]) -> int:
    """Each benchmark in its own process, one after the other (they share the 2 cores
    badly otherwise). With DATABASE_URL=postgres://…/<name> the database is created
    when missing; without it each benchmark uses its own throwaway SQLite database."""
    setup()
    unknown = [n for n in names if n not in BENCHMARKS]
    if unknown:
        print(f"Unknown benchmark(s): {', '.join(unknown)}. Known: {', '.join(BENCHMARKS)}")
        return 2
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith(("postgres://", "postgresql://")):
        create = (
            "import sys, psycopg; from urllib.parse import urlsplit; u = urlsplit(sys.argv[1]); name = u.path.lstrip('/');"
            "c = psycopg.connect(sys.argv[1].rsplit('/', 1)[0] + '/postgres', autocommit=True);"
            "c.execute('SELECT 1 FROM pg_database WHERE datname = %s', [name]).fetchone() or "
            "c.execute('CREATE DATABASE \"' + name.replace('\"', '') + '\"')"
        )
        if sh(PY, "-c", create, url):
            return 1
    # Benchmarks run as production does (DEBUG off), so they supply what its settings require.
    env = {"SECRET_KEY": "benchmarks-only-secret-key-not-for-any-deployment-0123456789abcdef",
           "EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend", **os.environ}
    failed = 0
    for name in names or BENCHMARKS:
        print(f"\n== bench/{name}.py", flush=True)
        failed += bool(sh(PY, ROOT / "bench" / f"{name}.py", env=env))
    return 1 if failed else 0


def main() -> int:
    command, *rest = sys.argv[1:] or ["help"]
    if command == "run":
        return run(rest)
    if command == "test":
        return test(rest)
    if command == "bench":
        return bench(rest)
    if command == "screenshots":
        setup()
        return sh(PY, "-m", "pytest", "-q", "tests/browser", *rest,
                  env={**os.environ, "SCREENSHOTS_DIR": str(ROOT / "screenshots"), "REQUIRE_BROWSER": "1"})
    if command == "setup":
        setup()
        return 0
    print(__doc__)
    return 0 if command == "help" else 2


if __name__ == "__main__":
    sys.exit(main())
