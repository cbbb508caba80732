"""Benchmark: wall and CPU time per validated SAML sign-in through the ACS, for A/B runs.

    .venv/bin/python bench/acs_cpu.py [TREE] [--logins 1500]

TREE (default: this checkout) is the root of a Gatehouse tree, so two revisions can be
compared turn by turn on the same machine with the same interpreter and database
server, e.g.:

    git worktree add /tmp/base d07377c && ln -s "$PWD/.venv" /tmp/base/.venv
    for round in 1 2 3 4; do
        DATABASE_URL=postgres://postgres@127.0.0.1:5432/gh_bench_a .venv/bin/python bench/acs_cpu.py /tmp/base
        DATABASE_URL=postgres://postgres@127.0.0.1:5432/gh_bench_b .venv/bin/python bench/acs_cpu.py
    done

`--idp-word` (issue 12) turns roles through the IdP on and gives the organization group
rules (a role, the Database Administrator grant, a team) that each response's role and
groups match: the same returning sign-in, reading and checking them all. Run it
alternately with and without to compare the two in one tree.

As bench/acs.py: IdP-initiated responses signed by the built-in test IdP (signxml),
posted as a browser does (form-encoded, no cookie of ours), returning users (the
warm-up signs each in once). CPU time is this process's only (the database's is not
in it), which varies less than wall time on a shared machine.
"""
import argparse
import gc
import os
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("tree", nargs="?", default=str(Path(__file__).resolve().parent.parent))
    parser.add_argument("--logins", type=int, default=1500)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--idp-word", action="store_true",
                        help="roles through the IdP and group rules on (issue 12): each response carries a role "
                             "and groups; a tree without them ignores the attributes")
    args = parser.parse_args()
    root = Path(args.tree).resolve()
    sys.path[:0] = [str(root), str(root / "bench")]
    os.chdir(root)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("DATABASE_URL", "sqlite://:memory:")
    os.environ["SAML_TEST_IDP"] = "true"

    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.test import Client
    from django.test.utils import setup_test_environment

    setup_test_environment()
    settings.ALLOWED_HOSTS = ["*"]
    settings.BASE_URL = "http://testserver"
    settings.SAML_TEST_IDP_DIR = Path(tempfile.mkdtemp(prefix="gh-bench-acs-cpu-")) / "idp"
    call_command("migrate", verbosity=0, interactive=False)
    from acs_common import SLUG as slug, prepare

    sign = prepare(args.users, idp_word=True) if args.idp_word else prepare(args.users)
    client = Client()
    for body in sign(args.users):  # warm-up: the accounts are created (JIT), not measured
        assert client.post(f"/sso/{slug}/acs/", {"SAMLResponse": body, "RelayState": ""}).status_code == 302
    forms = [urlencode({"SAMLResponse": body, "RelayState": ""}) for body in sign(args.logins)]
    gc.collect()
    gc.freeze()
    wall, cpu = time.perf_counter(), time.process_time()
    for form in forms:
        client.cookies.clear()
        response = client.post(f"/sso/{slug}/acs/", form, content_type="application/x-www-form-urlencoded")
        if response.status_code != 302:
            raise SystemExit(f"login failed: {response.status_code} {response.content[:300]!r}")
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    print(f"{root.name}{' (idp word)' if args.idp_word else ''}: wall {wall / len(forms) * 1000:.2f} ms per login ({len(forms) / wall:.0f}/s), "
          f"CPU {cpu / len(forms) * 1000:.2f} ms per login")


if __name__ == "__main__":
    main()
