"""Directory Sync: a SCIM 2.0 server (RFC 7643/7644) per organization at /scim/v2/<org>/.

Why our own views instead of django-scim2's: its list view counts and slices in
Python, its filter query runs over every tenant and then filters the tenant in
Python, its group adapter changes members one query each and always returns all
members, its default auth is "is logged in" (a session cookie), its 401 has no
SCIM body, its default adapters implement no PATCH operations, and its
ResourceTypes/Schemas lack totalResults. Each of those breaks a requirement
(tenancy in SQL, constant queries per page, set-based member changes, bearer
token only, RFC 7644 errors, Okta/Entra PATCH forms), so replacing adapters,
views, auth and discovery would leave nothing of it in use.

What we do use is the parser it is built on, scim2-filter-parser: its lexer and
parser turn a filter into a syntax tree, and `scim.filters` maps that tree onto
Django Q objects over indexed columns, ANDed with the organization in SQL,
refusing (400 invalidFilter) any attribute or operator it does not know instead
of dropping it the way the library's own transpilers do.

Layout: models (Directory, DirectoryToken, DirectoryUser, DirectoryGroup,
DirectoryGroupMember), services (every change, audited), request_log (the last
requests received, in Redis),
selectors (org-scoped reads), filters, resources (documents in/out, PATCH),
schemas (discovery), views (SCIM endpoints and the settings page), api (JSON API).
"""
