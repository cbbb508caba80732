"""Benchmark: Gatehouse side by side with a bare SP and with stock django-scim2, over
HTTP, the two servers taking turns.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/gh_base_gatehouse python3 dev.py bench side_by_side

(directly: .venv/bin/python bench/side_by_side.py [--rounds 4] [--logins 800] [--users 800]
[--requests 200] …, with SECRET_KEY and EMAIL_BACKEND set as dev.py bench sets them.)

The baselines:
  sign-in        bench/bare_sp/: a separate Django project, python3-saml in strict mode,
                 signed assertions required, the AuthnRequest ID in a database session,
                 IdP-initiated responses allowed, assertion IDs used once (Redis SET NX),
                 one auth_user row per email created on first sign-in, login(); the same URL
                 shapes (/sso/<slug>/login/, /sso/<slug>/acs/, /api/v1/user). Nothing else.
  Directory Sync stock django-scim2 (bench/stock_settings.py, bench/stock_urls.py).
Every server is `gunicorn` with 2 sync workers and bench/acs_http.py's flags, on a free
port, with its own PostgreSQL database and Redis database number (--redis-dbs). Gatehouse's
is DATABASE_URL's; the baselines' replace its `_gatehouse` suffix by `_baresp` and `_stock`
(or append them) and are dropped and created again at every run. Gatehouse runs as in
production (DEBUG off, Redis), with SCIM_RATE_LIMIT=0 so the limit does not throttle the
load. Every server keeps its database connections for the whole run (CONN_MAX_AGE), so
the CPU time of its PostgreSQL backends can be read. The responses are signed by
Gatehouse's test IdP (sso.test_idp: signxml, independent of both SPs): this runner
imports Gatehouse to sign them and to set up its organization and directory; the bare SP
is given the IdP's certificate and entity ID and imports nothing of Gatehouse.

Before any figure, each SP is checked to do the same job: sign in a fresh response,
refuse a replay, an unknown InResponseTo, another SP's audience and an SP-initiated
response answering another request, and complete an SP-initiated sign-in. Then a warm-up
signs every account in once (account creation is not timed) and runs WARM_UP requests of
each workload. Each of --rounds rounds runs every workload on one server, then on the
other (Gatehouse first in odd rounds, the baseline first in even ones), with the same
client: Python threads, each with one keep-alive HTTP/1.1 connection (gunicorn's sync
workers close it after every response, so each request connects again, on both sides):
  sign-in  --logins POSTs to /sso/<slug>/acs/ from 4 clients, each its own IdP-initiated
           response (the shape bench/acs_http.py posts) signed just before the round,
           form-encoded, without cookies, for --people accounts. Sign-ins/s, p50 and p99
           (4 in flight on 2 workers: a queue's wait is in them), and the CPU time one
           sign-in costs the gunicorn workers and the PostgreSQL backends of that server;
  start    --requests GETs of /sso/<slug>/login/ (302 to the IdP with an AuthnRequest),
           one client, no cookie (a new browser each time): p50;
  whoami   --requests GETs of /api/v1/user with the session cookie of one of this round's
           sign-ins, one client: p50;
  SCIM     --users people provisioned as Okta does, from 8 clients: `filter userName eq`
           (no match) then POST /Users, scim_provision.py's body without `password` (Okta
           sends one only with password sync on; stock would hash it with Argon2, Gatehouse
           drops it). People/s, POST p50, filter p50, CPU per person (web, PostgreSQL).
The ratio table is Gatehouse / baseline, the median of the per-round ratios. Every
figure moves with what else runs on the machine; the per-round ratios, taken turn by
turn, move less, and CPU per request least.
"""
import argparse
import base64
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
import zlib
from datetime import datetime, timezone
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
sys.path[:0] = [str(ROOT), str(BENCH)]

from http_common import Browser, children, cpu_seconds, free_port, gunicorn, in_parallel  # noqa: E402

SLUG = "bench-acs"  # acs_common.SLUG, also the bare SP's
WARM_UP = 200  # requests of each workload before the first round, not measured


# Setup ------------------------------------------------------------------------------


def sibling_database(url: str, role: str) -> str:
    """The URL of a baseline's database beside Gatehouse's: gh_x_gatehouse → gh_x_<role>."""
    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    base = name[: -len("_gatehouse")] if name.endswith("_gatehouse") else name
    return urlunsplit(parts._replace(path=f"/{base}_{role}"))


def fresh_database(url: str) -> None:
    """A baseline's database, empty at every run: stock's `userName eq` scans its whole user
    table (UPPER(email), no index), so users left by earlier runs would slow it run after run."""
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/").replace('"', "")
    with psycopg.connect(urlunsplit(parts._replace(path="/postgres")), autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')


def stock_setup() -> None:
    """Run in a child process with DJANGO_SETTINGS_MODULE=stock_settings: migrate the stock
    database and print a directory token stock's auth check accepts (its last line)."""
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
    from scim_common import make_directory

    _, token = make_directory("stock")
    print(token)


def free_ports(n: int) -> list[int]:
    ports: list[int] = []
    while len(ports) < n:
        port = free_port()
        if port not in ports:
            ports.append(port)
    return ports


# Client -----------------------------------------------------------------------------


class Failed(Exception):
    pass


def expect(response, data: bytes, status: int, what: str) -> None:
    if response.status != status:
        raise Failed(f"{what}: {response.status} instead of {status}: {data[:400]!r}")


def p(values, q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


class Server:
    """One side of the comparison: where the client finds it, what its responses must say
    (ACS URL, audience), and whose CPU time it spends."""

    def __init__(self, name: str, port: int, process, database_url: str, *, base_url: str = "", scim_base: str = "",
                 token: str = ""):
        self.name, self.port, self.process, self.database_url = name, port, process, database_url
        self.acs, self.audience = f"{base_url}/sso/{SLUG}/acs/", f"{base_url}/sso/{SLUG}/metadata/"
        self.scim_base, self.token = scim_base, token

    def cpu(self) -> tuple[float, dict[int, float]]:
        """CPU seconds so far of the gunicorn workers, and of each PostgreSQL backend
        connected to this server's own database (the workers keep theirs: CONN_MAX_AGE)."""
        import psycopg

        parts = urlsplit(self.database_url)
        with psycopg.connect(urlunsplit(parts._replace(path="/postgres")), autocommit=True) as connection:
            backends = [pid for pid, in connection.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = %s AND backend_type = 'client backend'",
                [parts.path.lstrip("/")])]
        return cpu_seconds(children(self.process.pid)), {pid: cpu_seconds([pid]) for pid in backends}

    def cpu_per_request(self, before, n: int) -> tuple[float, float]:
        """(web workers, PostgreSQL) CPU milliseconds per request since `before` = self.cpu().
        A backend that started since counts whole; one that ended since would be lost, which
        is why the servers keep their connections for the whole run (CONN_MAX_AGE)."""
        workers, backends = self.cpu()
        database = sum(seconds - before[1].get(pid, 0) for pid, seconds in backends.items())
        return (workers - before[0]) * 1000 / n, database * 1000 / n


def session_cookie(response) -> str:
    for header in response.headers.get_all("Set-Cookie") or []:
        cookie = SimpleCookie(header)
        if "sessionid" in cookie:
            return cookie["sessionid"].value
    return ""


def response_form(server: Server, email: str, *, in_response_to: str | None = None, audience: str = "",
                  relay_state: str = "") -> bytes:
    """A form as the IdP's page posts it: one response, its assertion signed by the test IdP."""
    from sso import test_idp

    body = test_idp.build_response(acs=server.acs, audience=audience or server.audience, email=email, first_name="B",
                                   last_name="U", in_response_to=in_response_to)
    return urlencode({"SAMLResponse": base64.b64encode(body).decode(), "RelayState": relay_state}).encode()


def cookies_set(response) -> str:
    """The cookies a response sets, as the next request's Cookie header."""
    return "; ".join(f"{morsel.key}={morsel.value}" for header in response.headers.get_all("Set-Cookie") or []
                     for morsel in SimpleCookie(header).values())


def check_the_same_job(server: Server, email: str) -> None:
    """Before any figure: each SP signs in a fresh response and refuses the same ones —
    a replay, an InResponseTo no request of this browser is waiting for, another SP's
    audience, an SP-initiated response answering another request — and completes an
    SP-initiated sign-in (the AuthnRequest's ID back as InResponseTo, with the cookies
    and RelayState of the start)."""
    browser = Browser(server.port)

    def post(form: bytes, status: int, what: str, cookie: str = "") -> None:
        headers = {"Content-Type": "application/x-www-form-urlencoded", **({"Cookie": cookie} if cookie else {})}
        response, data, _ = browser.send("POST", f"/sso/{SLUG}/acs/", form, headers)
        expect(response, data, status, f"{server.name}, {what}")

    def start() -> tuple[str, str, str]:
        response, data, _ = browser.send("GET", f"/sso/{SLUG}/login/")
        expect(response, data, 302, f"{server.name}, sign-in start")
        query = parse_qs(urlsplit(response.getheader("Location")).query)
        request = zlib.decompress(base64.b64decode(query["SAMLRequest"][0]), -15)
        request_id = re.search(rb' ID="([^"]+)"', request).group(1).decode()
        return request_id, query.get("RelayState", [""])[0], cookies_set(response)

    fresh = response_form(server, email)
    post(fresh, 302, "a fresh IdP-initiated response")
    post(fresh, 403, "the same response again")
    post(response_form(server, email, in_response_to="_no-such-request"), 403, "an unknown InResponseTo")
    post(response_form(server, email, audience="https://elsewhere.test/"), 400, "another SP's audience")
    request_id, relay_state, cookie = start()
    post(response_form(server, email, in_response_to=request_id, relay_state=relay_state), 302,
         "an SP-initiated response", cookie)
    _, relay_state, cookie = start()
    post(response_form(server, email, in_response_to="_another-request", relay_state=relay_state), 400,
         "an SP-initiated response answering another request", cookie)


# Workloads ----------------------------------------------------------------------------


def sign_ins(server: Server, forms: list[bytes], clients: int) -> tuple[dict, list[str]]:
    def do(browser, form):
        response, data, ms = browser.send("POST", f"/sso/{SLUG}/acs/", form,
                                          {"Content-Type": "application/x-www-form-urlencoded"})
        expect(response, data, 302, f"{server.name} ACS")
        return ms, session_cookie(response)

    before = server.cpu()
    results, wall = in_parallel(server.port, forms, clients, do)
    web, database = server.cpu_per_request(before, len(results))
    times = [ms for ms, _ in results]
    return ({"sign-ins/s": len(times) / wall, "ACS p50 ms": p(times, 0.5), "ACS p99 ms": p(times, 0.99),
             "ACS web CPU ms": web, "ACS DB CPU ms": database}, [cookie for _, cookie in results if cookie])


def sign_in_starts(server: Server, n: int, idp_sso_url: str) -> dict:
    def do(browser, _):
        response, data, ms = browser.send("GET", f"/sso/{SLUG}/login/")
        expect(response, data, 302, f"{server.name} sign-in start")
        if not (response.getheader("Location", "").startswith(idp_sso_url + "?SAMLRequest=")):
            raise Failed(f"{server.name} sign-in start: redirected to {response.getheader('Location')!r}")
        return ms

    times, _ = in_parallel(server.port, list(range(n)), 1, do)
    return {"start p50 ms": p(times, 0.5)}


def whoami(server: Server, cookies: list[str], n: int) -> dict:
    def do(browser, i):
        cookie = f"sessionid={cookies[i % len(cookies)]}"
        response, data, ms = browser.send("GET", "/api/v1/user", headers={"Cookie": cookie})
        expect(response, data, 200, f"{server.name} GET /api/v1/user")
        if b"@bench.test" not in data:
            raise Failed(f"{server.name} GET /api/v1/user: {data[:300]!r}")
        return ms

    times, _ = in_parallel(server.port, list(range(n)), 1, do)
    return {"whoami p50 ms": p(times, 0.5)}


def provisioning(server: Server, users: int, clients: int) -> dict:
    run = uuid.uuid4().hex[:8]
    headers = {"Authorization": f"Bearer {server.token}", "Content-Type": "application/scim+json"}

    def do(browser, i):
        email = f"user{i}@prov-{run}.test"
        query = urlencode({"filter": f'userName eq "{email}"'})
        response, data, filter_ms = browser.send("GET", f"{server.scim_base}/Users?{query}", headers=headers)
        expect(response, data, 200, f"{server.name} SCIM filter")
        if json.loads(data)["totalResults"] != 0:
            raise Failed(f"{server.name} SCIM filter found {email}")
        body = {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": email,
                "name": {"givenName": "U", "familyName": str(i)}, "externalId": f"00u{i}",
                "emails": [{"primary": True, "value": email, "type": "work"}], "active": True}
        response, data, post_ms = browser.send("POST", f"{server.scim_base}/Users", json.dumps(body).encode(), headers)
        expect(response, data, 201, f"{server.name} SCIM POST /Users")
        return filter_ms, post_ms

    before = server.cpu()
    results, wall = in_parallel(server.port, list(range(users)), clients, do)
    web, database = server.cpu_per_request(before, users)
    return {"SCIM people/s": users / wall, "SCIM POST p50 ms": p([post for _, post in results], 0.5),
            "SCIM filter p50 ms": p([lookup for lookup, _ in results], 0.5),
            "SCIM web CPU ms": web, "SCIM DB CPU ms": database}


# Report --------------------------------------------------------------------------------

HIGHER_IS_BETTER = {"sign-ins/s", "SCIM people/s"}


def show_round(number: int, order: list[Server], figures: dict) -> None:
    for server in order:
        line = "   ".join(f"{metric} {value:.1f}" if value >= 100 else f"{metric} {value:.2f}"
                          for metric, value in figures[server.name].items())
        print(f"  round {number} {server.name:>9}: {line}", flush=True)


def ratio_table(title: str, baseline: str, rounds: list[dict]) -> None:
    print(f"\n{title}: Gatehouse / {baseline}, the median of the per-round ratios")
    metrics = list(rounds[0]["gatehouse"])
    print(f"  {'':<20} {'Gatehouse':>10} {baseline:>10}   {'per-round ratios':<28} {'ratio':>6}  better")
    for metric in metrics:
        ours = [r["gatehouse"][metric] for r in rounds]
        theirs = [r[baseline][metric] for r in rounds]
        ratios = [a / b for a, b in zip(ours, theirs)]
        print(f"  {metric:<20} {statistics.median(ours):>10.2f} {statistics.median(theirs):>10.2f}   "
              f"{' '.join(f'{x:.2f}' for x in ratios):<28} {statistics.median(ratios):>6.2f}  "
              f"{'higher' if metric in HIGHER_IS_BETTER else 'lower'}")
    print("  (Gatehouse and baseline columns: the medians of the rounds)")


# Main ------------------------------------------------------------------------------------


def options():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--logins", type=int, default=800, help="ACS POSTs per server and round")
    parser.add_argument("--people", type=int, default=50, help="accounts the sign-ins are spread over")
    parser.add_argument("--requests", type=int, default=200, help="sign-in starts and whoami GETs per server and round")
    parser.add_argument("--users", type=int, default=800, help="people provisioned by SCIM per server and round")
    parser.add_argument("--sso-clients", type=int, default=4)
    parser.add_argument("--scim-clients", type=int, default=8)
    parser.add_argument("--bare-database-url", default="", help="dropped and created again at every run")
    parser.add_argument("--stock-database-url", default="", help="dropped and created again at every run")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379")
    parser.add_argument("--redis-dbs", default="10,11,12", help="Gatehouse's, the bare SP's and stock's")
    parser.add_argument("--stock-setup", action="store_true", help=argparse.SUPPRESS)
    return parser.parse_args()


def set_up(args) -> dict:
    """Databases, Gatehouse's organization and directory, the stock directory's token, and
    each server's environment. This process runs with Gatehouse's settings (without Redis:
    nothing here needs it), to set Gatehouse up and to sign responses with its test IdP."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        raise SystemExit("bench/side_by_side.py needs DATABASE_URL=postgres://… (Gatehouse's database)")
    bare_url = args.bare_database_url or sibling_database(url, "baresp")
    stock_url = args.stock_database_url or sibling_database(url, "stock")
    names = [urlsplit(database).path.lstrip("/") for database in (url, bare_url, stock_url)]
    if len(set(names)) != 3:
        raise SystemExit(f"the three databases must differ (the baselines' are dropped at every run): {names}")
    for database in (bare_url, stock_url):
        fresh_database(database)
    redis_gatehouse, redis_bare, redis_stock = (f"{args.redis.rstrip('/')}/{n}" for n in args.redis_dbs.split(","))
    ports = dict(zip(("gatehouse", "bare", "stock"), free_ports(3)))

    os.environ.update(DJANGO_SETTINGS_MODULE="config.settings", BASE_URL=f"http://127.0.0.1:{ports['gatehouse']}",
                      ALLOWED_HOSTS="127.0.0.1", SAML_TEST_IDP="true")
    os.environ.setdefault("STATICFILES_STORAGE", "django.contrib.staticfiles.storage.StaticFilesStorage")
    os.environ.pop("REDIS_URL", None)
    import django

    django.setup()
    from cryptography.hazmat.primitives.serialization import load_pem_private_key
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connections

    settings.SAML_TEST_IDP_DIR = Path(tempfile.mkdtemp(prefix="gh-bench-side-by-side-")) / "idp"
    call_command("migrate", verbosity=0, interactive=False)
    from acs_common import prepare
    from scim_common import make_directory
    from sso import test_idp

    prepare(args.people)  # SSO enabled against the test IdP, IdP-initiated allowed; its key is new each run
    org, gatehouse_token = make_directory("side")
    connections.close_all()
    # The test IdP reads its PEM key again for every response, and loading it costs 45 ms or
    # more (RSA key checks), 50 times the signature itself: here it is loaded once.
    key_pem, cert_pem = test_idp.keypair()
    key = load_pem_private_key(key_pem, password=None)
    test_idp.keypair = lambda: (key, cert_pem)

    # Every server keeps its database connections for the whole run (not 60 s), so that the
    # CPU time of their PostgreSQL backends can be read before and after each workload.
    gatehouse_env = {**os.environ, "REDIS_URL": redis_gatehouse, "SCIM_RATE_LIMIT": "0", "CONN_MAX_AGE": "36000",
                     "PYTHONWARNINGS": "ignore:No directory at:UserWarning"}  # whitenoise: no collectstatic here
    gatehouse_env.pop("PYTHONPATH", None)
    # The bare SP gets only what it reads (and PATH): nothing of Gatehouse's environment or path.
    bare_env = {"PATH": os.environ.get("PATH", ""), "SECRET_KEY": os.environ["SECRET_KEY"],
                "DJANGO_SETTINGS_MODULE": "bare_sp.settings", "DATABASE_URL": bare_url, "REDIS_URL": redis_bare,
                "BASE_URL": f"http://127.0.0.1:{ports['bare']}", "ALLOWED_HOSTS": "127.0.0.1", "SAML_SLUG": SLUG,
                "SAML_IDP_ENTITY_ID": test_idp.entity_id(), "SAML_IDP_SSO_URL": test_idp.sso_url(),
                "SAML_IDP_CERT_FILE": str(settings.SAML_TEST_IDP_DIR / "idp.crt"), "CONN_MAX_AGE": "36000"}
    stock_env = {**gatehouse_env, "DJANGO_SETTINGS_MODULE": "stock_settings", "DATABASE_URL": stock_url,
                 "REDIS_URL": redis_stock, "PYTHONPATH": str(BENCH)}
    subprocess.run([sys.executable, "-m", "django", "migrate", "--no-input", "-v", "0"], cwd=BENCH, env=bare_env,
                   check=True)
    stock_token = subprocess.run([sys.executable, __file__, "--stock-setup"], cwd=ROOT, stdout=subprocess.PIPE,
                                 text=True, check=True, env={**stock_env, "REDIS_URL": ""}).stdout.split()[-1]
    return {"ports": ports, "urls": {"gatehouse": url, "bare": bare_url, "stock": stock_url},
            "envs": {"gatehouse": gatehouse_env, "bare": bare_env, "stock": stock_env},
            "scim": {"gatehouse": (f"/scim/v2/{org.slug}", gatehouse_token), "stock": ("/scim/v2", stock_token)},
            "idp_sso_url": test_idp.sso_url()}


def turns(number: int, ours: Server, theirs: Server) -> list[Server]:
    """Gatehouse first in odd rounds, the baseline first in even ones."""
    return [ours, theirs] if number % 2 else [theirs, ours]


def sign_in_rounds(args, gatehouse: Server, bare: Server, idp_sso_url: str) -> list[dict]:
    emails = [f"user{i}@bench.test" for i in range(args.people)]
    print("\nSign-in: Gatehouse and the bare SP, each first checked to sign in and refuse the same responses "
          f"(Gatehouse logs those refusals), then warmed up: every account signs in once, then {WARM_UP} more",
          flush=True)
    for server in (gatehouse, bare):
        check_the_same_job(server, emails[0])
        _, cookies = sign_ins(server, [response_form(server, email) for email in emails], 1)
        sign_ins(server, [response_form(server, emails[i % len(emails)]) for i in range(WARM_UP)], args.sso_clients)
        sign_in_starts(server, WARM_UP, idp_sso_url)
        whoami(server, cookies, WARM_UP)
    rounds = []
    for number in range(1, args.rounds + 1):
        # Signed before either server's turn, for both: responses are good for 5 minutes.
        forms = {server.name: [response_form(server, emails[i % len(emails)]) for i in range(args.logins)]
                 for server in (gatehouse, bare)}
        figures, cookies = {gatehouse.name: {}, bare.name: {}}, {}
        order = turns(number, gatehouse, bare)
        for server in order:
            figures[server.name], cookies[server.name] = sign_ins(server, forms[server.name], args.sso_clients)
        for server in order:
            figures[server.name].update(sign_in_starts(server, args.requests, idp_sso_url))
        for server in order:
            figures[server.name].update(whoami(server, cookies[server.name], args.requests))
        show_round(number, order, figures)
        rounds.append(figures)
    return rounds


def provisioning_rounds(args, gatehouse: Server, stock: Server) -> list[dict]:
    print(f"\nSCIM: Gatehouse and stock django-scim2 (warm-up: {WARM_UP} people each)", flush=True)
    for server in (gatehouse, stock):
        provisioning(server, WARM_UP, args.scim_clients)
    rounds = []
    for number in range(1, args.rounds + 1):
        order = turns(number, gatehouse, stock)
        figures = {server.name: provisioning(server, args.users, args.scim_clients) for server in order}
        show_round(number, order, figures)
        rounds.append(figures)
    return rounds


def main():
    args = options()
    if args.stock_setup:
        return stock_setup()
    setup = set_up(args)
    ports, urls, envs = setup["ports"], setup["urls"], setup["envs"]
    from importlib.metadata import version

    print(f"{datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC, nproc {len(os.sched_getaffinity(0))}, load average "
          f"{' '.join(f'{x:.1f}' for x in os.getloadavg())}; Django {version('django')}, python3-saml "
          f"{version('python3-saml')}, django-scim2 {version('django-scim2')}; gunicorn 2 sync workers each; "
          f"{args.rounds} rounds of {args.logins} sign-ins, {args.requests} starts and whoami, {args.users} SCIM "
          f"people per server", flush=True)
    with gunicorn("config.wsgi:application", port=ports["gatehouse"], env=envs["gatehouse"], cwd=ROOT) as process:
        scim_base, token = setup["scim"]["gatehouse"]
        gatehouse = Server("gatehouse", ports["gatehouse"], process, urls["gatehouse"],
                           base_url=envs["gatehouse"]["BASE_URL"], scim_base=scim_base, token=token)
        with gunicorn("bare_sp.wsgi:application", port=ports["bare"], env=envs["bare"], cwd=BENCH) as process:
            bare = Server("bare SP", ports["bare"], process, urls["bare"], base_url=envs["bare"]["BASE_URL"])
            sso = sign_in_rounds(args, gatehouse, bare, setup["idp_sso_url"])
        with gunicorn("config.wsgi:application", port=ports["stock"], env=envs["stock"], cwd=ROOT) as process:
            scim_base, token = setup["scim"]["stock"]
            stock = Server("stock", ports["stock"], process, urls["stock"], scim_base=scim_base, token=token)
            scim = provisioning_rounds(args, gatehouse, stock)
    ratio_table("Sign-in", "bare SP", sso)
    ratio_table("SCIM", "stock", scim)
    print(f"\nload average at the end: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    # SIGTERM ends the run as Ctrl-C does: through the finally blocks that stop the servers.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    main()
