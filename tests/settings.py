"""The test suite's settings: config.settings, run as production runs it (DEBUG off), with
the two values production must set explicitly supplied here, since outside DEBUG the
settings refuse to start without them. Subprocesses (the Celery worker) inherit them."""
import os

os.environ.setdefault("SECRET_KEY", "tests-only-secret-key-not-for-any-deployment-0123456789abcdefghij")
os.environ.setdefault("EMAIL_BACKEND", "django.core.mail.backends.locmem.EmailBackend")

from config.settings import *  # noqa: E402,F401,F403
