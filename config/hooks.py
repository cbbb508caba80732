"""A list of checks that one app offers and others fill, so the lower app never
imports the higher one (accounts ← orgs ← teams ← sso ← scim). Each app's
`policy.py` names its hooks; see accounts/policy.py for the pattern."""
from collections.abc import Callable


class Hooks:
    def __init__(self) -> None:
        self._checks: list[Callable] = []

    def register(self, check: Callable) -> Callable:
        """Add `check` (once; usable as a decorator)."""
        if check not in self._checks:
            self._checks.append(check)
        return check

    def registered(self) -> tuple:
        """The checks, in order: what a cache of their combined effect is keyed by."""
        return tuple(self._checks)

    def first(self, *args):
        """The first truthy answer of the checks (a refusal message), or None."""
        for check in self._checks:
            answer = check(*args)
            if answer:
                return answer
        return None

    def answers(self, *args) -> list:
        """Every check's answer, in registration order."""
        return [check(*args) for check in self._checks]
