"""Secrets out of the logs. Some links carry their secret in the URL path (an invitation,
an SSO link confirmation, a password reset, an account claim, an email verification, a
setup link):
the access log prints the path, the Referer of the page's next request, and a redirect's
Location, and Django logs the path of a refused request. Each of those goes through
mask_secrets(), which keeps the route and replaces the secret segments with "…".

gunicorn: `--logger-class config.log_masking.AccessLogger` (Dockerfile, docker-compose.yml).
Django: the `mask_secrets` logging filter (config/settings.py LOGGING).
"""
import logging
import re

from gunicorn.glogging import Logger

MASK = "…"
# A path's start (the text's start, after a space or quote as in a request line, or after
# scheme://host in a Referer), the route's prefix, then every segment after it up to the
# query or the end: a password reset is /accounts/reset/<uidb64>/<token>/, the others one token.
_SECRET_PATHS = re.compile(
    r"(?P<prefix>(?:^|[\s\"']|[a-z]+://[^/\s\"']+)/(?:invitations|sso/link|accounts/reset|accounts/claim"
    r"|accounts/verify-email)/)"
    r"(?P<secret>(?:%2[fF]|[^/?#\s\"'])+(?:/(?:%2[fF]|[^/?#\s\"'])+)*)"
)
# A setup link (/setup/<secret>/…): its first segment is the secret, the rest its page's route.
_SECRET_FIRST_SEGMENT = re.compile(
    r"(?P<prefix>(?:^|[\s\"']|[a-z]+://[^/\s\"']+)/setup/)(?P<secret>(?:%2[fF]|[^/?#\s\"'])+)"
)
# Request and response headers that are secrets themselves, should a log format name them.
_SECRET_ATOMS = {"{authorization}i", "{cookie}i", "{set-cookie}o", "{http_authorization}e", "{http_cookie}e",
                 "{proxy-authorization}i"}


def mask_secrets(text: str) -> str:
    if not text or "/" not in text:
        return text
    text = _SECRET_FIRST_SEGMENT.sub(lambda m: m.group("prefix") + MASK, text)
    return _SECRET_PATHS.sub(lambda m: m.group("prefix") + "/".join(MASK for _ in m.group("secret").split("/")),
                             text)


class AccessLogger(Logger):
    """gunicorn's logger whose access-log atoms (request line, path, Referer, Location, the
    environ) have their secret path segments masked, and secret headers left out."""

    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        for key, value in atoms.items():
            if key in _SECRET_ATOMS:
                atoms[key] = "-"
            elif isinstance(value, str):
                atoms[key] = mask_secrets(value)
        return atoms


class SecretPathFilter(logging.Filter):
    """For Django's loggers: a record's message with its secret path segments masked."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record is logging's to report, not ours
            return True
        masked = mask_secrets(message)
        if masked != message:
            record.msg, record.args = masked, ()
        return True
