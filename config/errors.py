"""Errors that services raise when a request would break a rule.

Each has a stable `code` (the API's error code) and a human `message`; the
edges turn them into a 4xx: `status` says which.
"""


class ServiceError(Exception):
    code = "invalid"
    status = 400

    def __init__(self, message: str, *, code: str | None = None):
        super().__init__(message)
        self.message = message
        if code:
            self.code = code


class NotAllowed(ServiceError):
    code = "not_allowed"
    status = 403


class Conflict(ServiceError):
    code = "conflict"
    status = 409


class NotFound(ServiceError):
    code = "not_found"
    status = 404


class RateLimited(ServiceError):
    """Past a limit: `retry_after` seconds until the window ends (the API's Retry-After)."""

    code = "rate_limited"
    status = 429

    def __init__(self, message: str, *, retry_after: int, code: str | None = None):
        super().__init__(message, code=code)
        self.retry_after = retry_after
