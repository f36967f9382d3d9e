"""Bearer tokens on every GraphQL request: the token decides the account (401 otherwise); the
body is bounded as it arrives (413 past 1 MB)."""

from __future__ import annotations

import logging
import uuid
from collections import deque
from dataclasses import replace

import pymongo
from pymongo.errors import PyMongoError
from starlette.datastructures import MutableHeaders
from starlette.requests import HTTPConnection
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from marketing_contacts.domain.audit import kept_request_id
from marketing_contacts.http.refusals import error_response
from marketing_contacts.runtime import Runtime
from marketing_contacts.schema.errors import DATABASE_UNAVAILABLE
from marketing_contacts.services.callers import Caller
from marketing_contacts.services.tokens import TokenService

log = logging.getLogger(__name__)
CALLER = "caller"
REQUEST_ID_HEADER = "x-request-id"
#: no GraphQL request of a client needs more; a larger one is refused before it is read (its
#: Content-Length says so) or as soon as that much of it has arrived (a chunked body)
MAX_BODY_BYTES = 1_000_000
#: how long a client told the database is unavailable waits before it tries again
RETRY_AFTER_SECONDS = "5"
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
    """Lets an HTTP request through only with a valid bearer token and a body of at most
    MAX_BODY_BYTES; the GraphiQL page (a browser's GET for HTML) loads without a token, in
    development only."""

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
        body = await _bounded_body(receive)
        if body is None:
            await too_large()(scope, receive, send)
            return
        request_id = new_request_id(connection.headers.get(REQUEST_ID_HEADER))
        scope.setdefault("state", {})[CALLER] = replace(outcome, request_id=request_id)
        send = _telling_request_id(send, request_id)
        # every database operation of the request shares one deadline: however many it makes,
        # a database that hangs or an account that stays held is answered within the timeout
        runtime: Runtime = connection.app.state.runtime
        with pymongo.timeout(runtime.mongo.timeout):
            await self.app(scope, _replaying(body, receive), send)

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
            return error_response(
                503, DATABASE_UNAVAILABLE, "UNAVAILABLE", {"Retry-After": RETRY_AFTER_SECONDS}
            )
        return unauthorized("the token is not valid") if caller is None else caller

    def _wants_ide(self, connection: HTTPConnection, scope: Scope) -> bool:
        return (
            self.ide_enabled
            and scope.get("method") == "GET"
            and "text/html" in connection.headers.get("accept", "")
            and "query" not in connection.query_params
        )


def new_request_id(sent: str | None = None) -> str:
    """P4: the id a request's writes name in the audit log: the client's X-Request-Id when it
    is a plain short one, else one of the service's own."""
    return kept_request_id(sent) or uuid.uuid4().hex


def _telling_request_id(send: Send, request_id: str) -> Send:
    """A `send` whose answer carries the request's id (X-Request-Id), to find its entries."""

    async def telling(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = MutableHeaders(scope=message)
            headers[REQUEST_ID_HEADER] = request_id
        await send(message)

    return telling


def _declared_length(connection: HTTPConnection) -> int:
    length = connection.headers.get("content-length", "0")
    return int(length) if length.isdigit() else 0


async def _bounded_body(receive: Receive) -> list[Message] | None:
    """The messages of the request's body, read as they arrive; None as soon as they hold more
    than MAX_BODY_BYTES, without reading the rest (a chunked body declares no length)."""
    messages: list[Message] = []
    size = 0
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":  # the client went away: the app sees it too
            return messages
        size += len(message.get("body", b""))
        if size > MAX_BODY_BYTES:
            return None
        if not message.get("more_body", False):
            return messages


def _replaying(messages: list[Message], receive: Receive) -> Receive:
    """A `receive` that gives the app the body read already, then what comes after it."""
    pending = deque(messages)

    async def replay() -> Message:
        return pending.popleft() if pending else await receive()

    return replay
