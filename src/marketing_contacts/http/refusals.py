"""Every refusal of the HTTP edge in one shape, a GraphQL response that holds only an error:
`{"errors": [{"message": ..., "extensions": {"code": ...}}]}` as application/json, whoever
refuses (the token check, the body bound, strawberry's request parsing, Starlette's routing)
and for an unexpected exception too, which is masked like one inside GraphQL."""

from __future__ import annotations

from collections.abc import Mapping

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse

from marketing_contacts.schema.errors import UNEXPECTED_ERROR, logged_request_id

#: a refusal's message may quote the request (strawberry quotes an unknown operation name);
#: it quotes no more than this much of it
MAX_MESSAGE_CHARS = 160
#: the code of a refusal by its status, for the refusals that come as a status and a reason
CODES = {
    400: "INVALID",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    413: "TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE",
}


def error_response(
    status: int,
    message: str,
    code: str,
    headers: Mapping[str, str] | None = None,
    *,
    request_id: str | None = None,
    **more: object,
) -> JSONResponse:
    """A refusal before GraphQL runs, shaped like a GraphQL error; `more` goes to its
    extensions with the code."""
    if len(message) > MAX_MESSAGE_CHARS:
        message = message[: MAX_MESSAGE_CHARS - 1] + "…"
    extensions: dict[str, object] = {"code": code}
    if request_id is not None:
        extensions["requestId"] = request_id
    extensions.update(more)
    body = {"errors": [{"message": message, "extensions": extensions}]}
    return JSONResponse(body, status_code=status, headers=headers)


def refusal(status: int, reason: str, headers: Mapping[str, str] | None = None) -> JSONResponse:
    """A framework's refusal (a status and a reason) with its code; any other client error
    the frameworks might send is INVALID."""
    return error_response(status, reason, CODES.get(status, "INVALID"), headers)


async def routing_refusal(request: Request, error: Exception) -> JSONResponse:
    """Starlette's own refusals: an unknown path (404), a method a route does not take (405,
    with its Allow header)."""
    assert isinstance(error, HTTPException)  # the exception this handler is registered for
    return refusal(error.status_code, error.detail, error.headers)


async def unexpected_error(request: Request, error: Exception) -> JSONResponse:
    """An exception nothing else handled: 500 and a request id for the client, the traceback
    under that id for the log."""
    request_id = logged_request_id(error, f"{request.method} {request.url.path}")
    return error_response(500, UNEXPECTED_ERROR, "INTERNAL", request_id=request_id)


#: Starlette's exception handlers: Exception goes to its ServerErrorMiddleware (the outermost)
EXCEPTION_HANDLERS = {HTTPException: routing_refusal, Exception: unexpected_error}
