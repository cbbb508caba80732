#!/usr/bin/env python3
"""The README's two commands, needing nothing but Python 3.11+:

    python3 dev.py run     # set up, load the demo, serve on http://localhost:8000
    python3 dev.py test    # set up and run the whole test suite (extra args go to pytest)

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


def run(args: list[str]) -> int:
    setup()
    env = {**os.environ, "DEBUG": os.environ.get("DEBUG", "true"), "SAML_TEST_IDP": os.environ.get("SAML_TEST_IDP", "true")}
    for step in (["migrate", "--no-input"], ["demo"]):
        if sh(PY, "manage.py", *step, env=env):
            return 1
    address = args[0] if args else "127.0.0.1:8000"
    return sh(PY, "manage.py", "runserver", address, env=env)


def test(args: list[str]) -> int:
    setup()
    code = sh(PY, "-m", "pytest", *args)
    if code == 5:  # pytest: no tests collected (e.g. a -k that matches nothing) is not a failure of the suite
        print("pytest collected no tests.")
        return 0
    return code


def main() -> int:
    command, *rest = sys.argv[1:] or ["help"]
    if command == "run":
        return run(rest)
    if command == "test":
        return test(rest)
    if command == "setup":
        setup()
        return 0
    print(__doc__)
    return 0 if command == "help" else 2


if __name__ == "__main__":
    sys.exit(main())
