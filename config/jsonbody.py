"""JSON request bodies, parsed with a bound on nesting (§6: no 500 from input).

The API's parser and SCIM's both read bodies through `loads`. `json.loads` recurses
per level and raises RecursionError past the interpreter's limit; a body just under
it would still reach serializers and services that recurse too. So nesting deeper than
MAX_DEPTH is refused as malformed, before and after parsing, without recursion.

Rule ids: docs/rules.md.
"""
import json

MAX_DEPTH = 64


class MalformedJSON(ValueError):
    """The body is not JSON we accept: its message says why, for the client."""


def _refuse_constant(name):
    raise MalformedJSON(f"{name} is not a JSON value.")


def _too_deep(value, limit: int) -> bool:
    stack = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        children = node.values() if isinstance(node, dict) else node
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return False


def loads(raw: str | bytes, *, max_depth: int = MAX_DEPTH):
    """The parsed body; MalformedJSON when it is not JSON, uses NaN/Infinity, or nests
    deeper than `max_depth` arrays/objects. Bytes are decoded as json.loads does
    (UTF-8, -16 or -32); UnicodeDecodeError, a ValueError, is left to the caller."""
    try:
        value = json.loads(raw, parse_constant=_refuse_constant)
    except RecursionError:
        raise MalformedJSON(f"The body nests deeper than {max_depth} levels.") from None
    except MalformedJSON:
        raise
    except UnicodeDecodeError:
        raise
    except ValueError as exc:
        raise MalformedJSON(str(exc)) from None
    if isinstance(value, (dict, list)) and _too_deep(value, max_depth):
        raise MalformedJSON(f"The body nests deeper than {max_depth} levels.")
    return value
