"""Every list is paginated the same way: `?limit=&offset=`, 50 by default, at most 200.

The body is ``{"count", "next", "previous", "results"}``. The next/previous links
are built from settings.BASE_URL, never from the request's Host header.
"""
from django.conf import settings
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.utils.urls import remove_query_param, replace_query_param


class Pagination(LimitOffsetPagination):
    default_limit = 50
    max_limit = 200

    def _current_url(self) -> str:
        return settings.BASE_URL + self.request.get_full_path()

    def get_next_link(self):
        if self.offset + self.limit >= self.count:
            return None
        url = replace_query_param(self._current_url(), self.limit_query_param, self.limit)
        return replace_query_param(url, self.offset_query_param, self.offset + self.limit)

    def get_previous_link(self):
        if self.offset <= 0:
            return None
        url = replace_query_param(self._current_url(), self.limit_query_param, self.limit)
        if self.offset - self.limit <= 0:
            return remove_query_param(url, self.offset_query_param)
        return replace_query_param(url, self.offset_query_param, self.offset - self.limit)
