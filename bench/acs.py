"""Benchmark: validated SAML logins per second through the ACS view, in process.

    .venv/bin/python bench/acs.py [--logins 1000] [--users 50]

Uses a throwaway SQLite database (or DATABASE_URL if set — PostgreSQL for
production-like figures) and the local-memory cache (or REDIS_URL). It creates
an organization with SSO enabled against the built-in test IdP, pre-signs N
responses with signxml (IdP-initiated, each with its own assertion ID, spread
over a few users), then POSTs them through django.test.Client to
/sso/<org>/acs/ as a browser does: form-encoded, from a browser with no cookie
of ours (the IdP's cross-site POST carries no SameSite=Lax session cookie). Each
is the whole request: middleware, full validation (python3-saml strict + our
checks), the replay cache, sso_login (the link, last_login, audit event), login
and the new session. It prints logins/s and p50/p95/p99, first with the compiled
XSD schema and XPath expressions sso.saml keeps (the default), then with
python3-saml's stock handling (schema parsed and compiled, XPath compiled, on
every response). One process = one core; the target (≥ 300/s on 2 cores,
p99 < 25 ms) means ≥ 150/s per process. Like config/wsgi.py, it freezes the
objects of start-up out of the garbage collector's way before measuring.
"""
import argparse
import gc
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
_tmp = tempfile.mkdtemp(prefix="gh-bench-acs-")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
# In-memory SQLite by default: no fsync noise; DATABASE_URL=postgres://… for PostgreSQL figures.
os.environ.setdefault("DATABASE_URL", "sqlite://:memory:")
os.environ.setdefault("STATICFILES_STORAGE", "django.contrib.staticfiles.storage.StaticFilesStorage")
os.environ["SAML_TEST_IDP"] = "true"

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--logins", type=int, default=1000)
    parser.add_argument("--users", type=int, default=50)
    args = parser.parse_args()

    setup_test_environment()
    settings.ALLOWED_HOSTS = ["*"]
    settings.BASE_URL = "http://testserver"
    settings.SAML_TEST_IDP_DIR = Path(_tmp) / "idp"
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    call_command("migrate", verbosity=0, interactive=False)

    from acs_common import SLUG as slug, prepare
    from sso import saml

    sign = prepare(args.users)

    # Warm up: first logins create the accounts (JIT), not what is measured.
    client = Client()
    for body in sign(args.users):
        assert client.post(f"/sso/{slug}/acs/", {"SAMLResponse": body, "RelayState": ""}).status_code == 302

    def run(label, bodies):
        from urllib.parse import urlencode

        client = Client()
        forms = [urlencode({"SAMLResponse": body, "RelayState": ""}) for body in bodies]
        gc.collect()
        gc.freeze()
        times = []
        started = time.perf_counter()
        for form in forms:
            client.cookies.clear()  # a browser arriving from the IdP: no cookie of ours
            t0 = time.perf_counter()
            response = client.post(f"/sso/{slug}/acs/", form, content_type="application/x-www-form-urlencoded")
            times.append((time.perf_counter() - t0) * 1000)
            if response.status_code != 302:
                raise SystemExit(f"login failed: {response.status_code} {response.content[:300]!r}")
        total = time.perf_counter() - started
        times.sort()
        q = statistics.quantiles(times, n=100)
        print(f"{label:<28} {len(bodies) / total:7.1f} logins/s   p50 {q[49]:5.2f} ms   p95 {q[94]:5.2f} ms   "
              f"p99 {q[98]:5.2f} ms")

    print(f"signing {args.logins * 2} responses with signxml…", flush=True)
    cached_bodies, uncached_bodies = sign(args.logins), sign(args.logins)
    print(f"ACS, {args.logins} validated logins, one process ({settings.DATABASES['default']['ENGINE'].rsplit('.', 1)[-1]}, "
          f"{settings.CACHES['default']['BACKEND'].rsplit('.', 1)[-1]}):")
    saml.use_schema_cache(True)
    run("compiled XSD and XPath", cached_bodies)
    saml.use_schema_cache(False)
    run("python3-saml stock", uncached_bodies)
    saml.use_schema_cache(True)

    # The validation alone, without HTTP and database.
    from sso.selectors import org_and_connection
    from sso.services import connection_certificates

    _, connection = org_and_connection(slug)
    certs = connection_certificates(connection)
    bodies = sign(300)
    for enabled in (True, False):
        saml.use_schema_cache(enabled)
        t0 = time.perf_counter()
        for body in bodies:
            saml.validate_response(connection, certs, body, request_id=None)
        per = (time.perf_counter() - t0) * 1000 / len(bodies)
        print(f"validate_response only, {'compiled' if enabled else 'stock   '}: {per:.2f} ms per response")
    saml.use_schema_cache(True)


if __name__ == "__main__":
    main()
