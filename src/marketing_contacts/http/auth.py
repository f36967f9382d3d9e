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
#: I1: how long an upload's request may take, its file streamed into the database included
UPLOAD_TIMEOUT_SECONDS = 600.0


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


def too_large(limit: int = MAX_BODY_BYTES) -> JSONResponse:
    message = BODY_TOO_LARGE
    if limit != MAX_BODY_BYTES:
        message = f"the upload is larger than {limit} bytes"
    return error_response(413, message, "TOO_LARGE")


class _UploadTooLarge(Exception):
    """An upload's body went past its bound as it arrived."""


def is_upload(scope: Scope) -> bool:
    """I1: a multipart/form-data POST (the GraphQL multipart request spec): startImport's file."""
    if scope.get("method") != "POST":
        return False
    content_type = HTTPConnection(scope).headers.get("content-type", "")
    return content_type.split(";", 1)[0].strip().lower() == "multipart/form-data"


def caller_of(connection: HTTPConnection) -> Caller | None:
    """The token's caller; None only on the GraphiQL page, which loads without a token."""
    caller: Caller | None = connection.scope.get("state", {}).get(CALLER)
    return caller


class RequireToken:
    """Lets an HTTP request through only with a valid bearer token and a body of at most
    MAX_BODY_BYTES; the GraphiQL page (a browser's GET for HTML) loads without a token, in
    development only. With `upload_max_bytes`, a multipart/form-data POST (an upload, I1) may
    be that large: its body streams through, bounded as it arrives, not held here."""

    def __init__(
        self, app: ASGIApp, *, ide_enabled: bool, upload_max_bytes: int | None = None
    ) -> None:
        self.app = app
        self.ide_enabled = ide_enabled
        self.upload_max_bytes = upload_max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        connection = HTTPConnection(scope)
        if scope["type"] == "http" and self._wants_ide(connection, scope):
            await self.app(scope, receive, send)
            return
        limit = MAX_BODY_BYTES
        if self.upload_max_bytes is not None and is_upload(scope):
            limit = self.upload_max_bytes
        outcome = await self._authenticate(connection, limit)
        if isinstance(outcome, JSONResponse):
            await outcome(scope, receive, send)
            return
        if limit != MAX_BODY_BYTES:
            await self._upload(connection, outcome, limit, scope, receive, send)
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

    async def _upload(
        self,
        connection: HTTPConnection,
        caller: Caller,
        limit: int,
        scope: Scope,
        receive: Receive,
        send: Send,
    ) -> None:
        """I1: the upload's body streams to the app (whose multipart parser spools the file to
        disk), refused with 413 as soon as more than `limit` bytes arrived."""
        request_id = new_request_id(connection.headers.get(REQUEST_ID_HEADER))
        scope.setdefault("state", {})[CALLER] = replace(caller, request_id=request_id)
        send = _telling_request_id(send, request_id)
        runtime: Runtime = connection.app.state.runtime
        try:
            with pymongo.timeout(max(runtime.mongo.timeout, UPLOAD_TIMEOUT_SECONDS)):
                await self.app(scope, _bounded_stream(receive, limit), send)
        except _UploadTooLarge:
            await too_large(limit)(scope, receive, send)

    async def _authenticate(
        self, connection: HTTPConnection, limit: int = MAX_BODY_BYTES
    ) -> Caller | JSONResponse:
        """The token's caller, or the response that refuses the request."""
        if _declared_length(connection) > limit:
            return too_large(limit)
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


def _bounded_stream(receive: Receive, limit: int) -> Receive:
    """A `receive` that raises _UploadTooLarge once the body holds more than `limit` bytes."""
    size = 0

    async def bounded() -> Message:
        nonlocal size
        message = await receive()
        if message["type"] == "http.request":
            size += len(message.get("body", b""))
            if size > limit:
                raise _UploadTooLarge(limit)
        return message

    return bounded


def _replaying(messages: list[Message], receive: Receive) -> Receive:
    """A `receive` that gives the app the body read already, then what comes after it."""
    pending = deque(messages)

    async def replay() -> Message:
        return pending.popleft() if pending else await receive()

    return replay
