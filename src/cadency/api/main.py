"""The REST API: one NinjaAPI under /api/v1, authenticated by personal tokens."""

from django.contrib.auth.decorators import login_not_required
from ninja import NinjaAPI
from ninja.operation import Operation

from cadency.api import (
    absences,
    companies,
    contacts,
    enrollments,
    events,
    forecast,
    inbound,
    lists,
    mailboxes,
    sequences,
    tasks,
    triggers,
    users,
    workflows,
)
from cadency.api.auth import TokenAuth
from cadency.api.errors import install_error_handlers
from cadency.api.parser import ObjectParser

DESCRIPTION = """\
Everything a user does in Cadency's pages, over HTTP. Authenticate with a personal
API token (create one on your account page, `/account/`):
`Authorization: Bearer <token>`. The token acts with your permissions: reps act only
on the enrollments they made, managers and admins on all.

Every list is paginated with `limit` (1 to 500, default 50) and `offset`, and answers
`{"items": [...], "count": N, "limit": L, "offset": O}`. Every error answers
`{"error": {"code": "...", "message": "..."}}` with a stable code and changes nothing.
See `docs/api.md`."""


class CadencyAPI(NinjaAPI):
    def get_openapi_operation_id(self, operation: Operation) -> str:
        """Plain operation ids (``list_enrollments``): view names are unique."""
        return operation.view_func.__name__


api = CadencyAPI(
    title="Cadency API",
    version="1",
    description=DESCRIPTION,
    urls_namespace="api-v1",
    auth=TokenAuth(),
    parser=ObjectParser(),
    docs_url=None,
    docs_decorator=login_not_required,
)
install_error_handlers(api)

for module in (
    contacts,
    companies,
    sequences,
    enrollments,
    events,
    tasks,
    mailboxes,
    inbound,
    forecast,
    users,
    absences,
    lists,
    workflows,
    triggers,
):
    api.add_router("", module.router)
