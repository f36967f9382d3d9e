"""Bearer tokens on every GraphQL request: the token decides the account (401 otherwise)."""

from __future__ import annotations

import logging

from pymongo.errors import PyMongoError
from starlette.requests import HTTPConnection
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from marketing_contacts.refusals import error_response
from marketing_contacts.schema.errors import DATABASE_UNAVAILABLE
from marketing_contacts.services.callers import Caller
from marketing_contacts.services.tokens import TokenService

log = logging.getLogger(__name__)
CALLER = "caller"
#: no GraphQL request of a client needs more; a larger one is refused before it is read
MAX_BODY_BYTES = 1_000_000
BODY_TOO_LARGE = f"the request body is larger than {MAX_BODY_BYTES} bytes"


def bearer_token(authorization: str | None) -> str | None:
    if not authorization:
        return None
    scheme, _, token = authorization.partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


def unauthorized(message: str) -> JSONResponse:
    return error_response(
        401,
        message,
        "UNAUTHENTICATED",
        {"WWW-Authenticate": 'Bearer realm="marketing-contacts"'},
    )


def too_large() -> JSONResponse:
    return error_response(413, BODY_TOO_LARGE, "TOO_LARGE")


def caller_of(connection: HTTPConnection) -> Caller | None:
    """The token's caller; None only on the GraphiQL page, which loads without a token."""
    caller: Caller | None = connection.scope.get("state", {}).get(CALLER)
    return caller


class RequireToken:
    """Lets an HTTP request through only with a valid bearer token; the GraphiQL page (a browser's
    GET for HTML) loads without one, in development only."""

    def __init__(self, app: ASGIApp, *, ide_enabled: bool) -> None:
        self.app = app
        self.ide_enabled = ide_enabled

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        connection = HTTPConnection(scope)
        if scope["type"] == "http" and self._wants_ide(connection, scope):
            await self.app(scope, receive, send)
            return
        outcome = await self._authenticate(connection)
        if isinstance(outcome, JSONResponse):
            await outcome(scope, receive, send)
            return
        scope.setdefault("state", {})[CALLER] = outcome
        await self.app(scope, receive, send)

    async def _authenticate(self, connection: HTTPConnection) -> Caller | JSONResponse:
        """The token's caller, or the response that refuses the request."""
        if _declared_length(connection) > MAX_BODY_BYTES:
            return too_large()
        token = bearer_token(connection.headers.get("authorization"))
        if token is None:
            return unauthorized("an Authorization: Bearer <token> header is required")
        tokens: TokenService = connection.app.state.runtime.services.tokens
        try:
            caller = await tokens.authenticate(token)
        except PyMongoError:
            log.exception("authenticating a request: the database did not answer")
            return error_response(503, DATABASE_UNAVAILABLE, "UNAVAILABLE", {"Retry-After": "5"})
        return unauthorized("the token is not valid") if caller is None else caller

    def _wants_ide(self, connection: HTTPConnection, scope: Scope) -> bool:
        return (
            self.ide_enabled
            and scope.get("method") == "GET"
            and "text/html" in connection.headers.get("accept", "")
            and "query" not in connection.query_params
        )


def _declared_length(connection: HTTPConnection) -> int:
    length = connection.headers.get("content-length", "0")
    return int(length) if length.isdigit() else 0
