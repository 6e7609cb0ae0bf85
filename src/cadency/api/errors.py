"""JSON errors with stable codes: ``{"error": {"code": "...", "message": "..."}}``.

Codes: ``unauthorized`` (401), ``forbidden`` (403), ``not_found`` (404),
``invalid`` (400: malformed body, bad parameter or filter), ``conflict`` (409:
the action does not apply in the object's current state), ``method_not_allowed``
(405), and the enrollment refusal codes of ``sequences.services.errors.RefusalCode``
(422). Whatever the error, nothing was changed.
"""

import logging
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import PermissionDenied, SuspiciousOperation
from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError, ValidationError

from cadency.sequences.services.errors import EnrollmentRefused, RefusalCode

logger = logging.getLogger(__name__)

CODES_BY_STATUS = {
    400: "invalid",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    429: "throttled",
}


class ErrorBody(Schema):
    code: str
    message: str


class ErrorOut(Schema):
    error: ErrorBody


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def not_found(what: str, pk: object) -> ApiError:
    return ApiError(404, "not_found", f"there is no {what} with id {pk}")


def invalid(message: str) -> ApiError:
    return ApiError(400, "invalid", message)


def forbidden(message: str) -> ApiError:
    return ApiError(403, "forbidden", message)


def conflict(message: str) -> ApiError:
    return ApiError(409, "conflict", message)


def errors(*statuses: int) -> dict[int, type[ErrorOut]]:
    """The error responses of an operation, for its OpenAPI description.
    401 (no valid token) and 400 (bad input) can happen everywhere."""
    return {status: ErrorOut for status in sorted({400, 401, *statuses})}


def error_response(
    api: NinjaAPI, request: HttpRequest, status: int, code: str, message: str
) -> HttpResponse:
    return api.create_response(
        request, {"error": {"code": code, "message": message}}, status=status
    )


def describe_validation(problems: Iterable[dict[str, Any]]) -> str:
    """``body.ids: List should have at most 100000 items``, one clause per problem."""
    parts = []
    for problem in problems:
        loc = [str(p) for p in problem.get("loc", ())]
        if len(loc) > 2 and loc[0] in ("body", "query"):
            del loc[1]  # the name of the view's schema argument, not the client's
        where = ".".join(loc)
        message = problem.get("msg", "invalid")
        parts.append(f"{where}: {message}" if where else message)
    return "; ".join(parts) or "the request is not valid"


def install_error_handlers(api: NinjaAPI) -> None:
    def on_api_error(request: HttpRequest, exc: ApiError) -> HttpResponse:
        return error_response(api, request, exc.status, exc.code, exc.message)

    def on_refusal(request: HttpRequest, exc: EnrollmentRefused) -> HttpResponse:
        return error_response(api, request, 422, RefusalCode(exc.code).value, exc.message)

    def on_validation(request: HttpRequest, exc: ValidationError) -> HttpResponse:
        return error_response(api, request, 400, "invalid", describe_validation(exc.errors))

    def on_authentication(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
        message = (
            "a valid API token is required: send `Authorization: Bearer <token>` "
            "(create one on your account page); this one is missing, unknown or revoked"
        )
        return error_response(api, request, 401, "unauthorized", message)

    def on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
        code = CODES_BY_STATUS.get(exc.status_code, "invalid")
        message = str(exc)
        if message.startswith("Cannot parse request body"):
            message = "the request body must be a JSON object"
        return error_response(api, request, exc.status_code, code, message)

    def on_suspicious(request: HttpRequest, exc: SuspiciousOperation) -> HttpResponse:
        return error_response(api, request, 400, "invalid", str(exc) or "malformed request")

    def on_permission_denied(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
        return error_response(api, request, 403, "forbidden", str(exc) or "not allowed")

    def on_not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
        return error_response(api, request, 404, "not_found", str(exc) or "not found")

    def on_unexpected(request: HttpRequest, exc: Exception) -> HttpResponse:
        logger.exception("API error on %s %s", request.method, request.path)
        message = "an unexpected error happened; it was logged"
        return error_response(api, request, 500, "server_error", message)

    api.add_exception_handler(ApiError, on_api_error)  # type: ignore[arg-type]
    api.add_exception_handler(EnrollmentRefused, on_refusal)  # type: ignore[arg-type]
    api.add_exception_handler(ValidationError, on_validation)  # type: ignore[arg-type]
    api.add_exception_handler(AuthenticationError, on_authentication)  # type: ignore[arg-type]
    api.add_exception_handler(HttpError, on_http_error)  # type: ignore[arg-type]
    api.add_exception_handler(PermissionDenied, on_permission_denied)  # type: ignore[arg-type]
    api.add_exception_handler(Http404, on_not_found)  # type: ignore[arg-type]
    api.add_exception_handler(SuspiciousOperation, on_suspicious)  # type: ignore[arg-type]
    api.add_exception_handler(Exception, on_unexpected)  # type: ignore[arg-type]
