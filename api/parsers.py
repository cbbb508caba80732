"""JSON bodies, with the size limit Django applies to forms.

DRF's JSONParser reads the request stream directly, so Django's
DATA_UPLOAD_MAX_MEMORY_SIZE (checked only when something reads request.body or
request.POST) would not protect the API: a client could send a body of any
size and it would be read into memory. This parser refuses it with 413.

Rule ids: docs/rules.md.
"""
from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

from config import jsonbody

from .errors import TooLarge


class LimitedJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        parser_context = parser_context or {}
        request = parser_context.get("request")
        if limit is not None and request is not None:
            try:
                declared = int(request.META.get("CONTENT_LENGTH") or 0)
            except (TypeError, ValueError):
                declared = 0
            if declared > limit:
                raise TooLarge(f"The request body is larger than {limit} bytes.")
        raw = stream.read(limit + 1) if limit is not None else stream.read()
        if limit is not None and len(raw) > limit:
            raise TooLarge(f"The request body is larger than {limit} bytes.")
        encoding = parser_context.get("encoding", settings.DEFAULT_CHARSET)
        try:
            text = raw.decode(encoding)
            return jsonbody.loads(text)  # NaN/Infinity and deep nesting refused (§6)
        except UnicodeDecodeError:
            raise ParseError("The request body is not valid UTF-8.") from None
        except ValueError as exc:
            raise ParseError(f"The request body is not valid JSON: {exc}") from None
