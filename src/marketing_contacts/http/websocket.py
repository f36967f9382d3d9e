"""graphql-transport-ws messages checked for shape before strawberry reads them.

A message that is JSON but not an object, or a subscribe whose payload is not an object with a
string `query`, an object (or no) `variables` and a string (or no) `operationName`, closes the
socket with the protocol's 4400, as any other malformed message does: never an exception inside
the server, never a Python error message sent to the client. A connection_init that cannot be
checked because the database is away closes with 1013, try again later.

P1: the token is checked again at every subscribe message (queries and mutations over the
socket included), and the operation runs as the token's user is now; a token revoked, or a user
deactivated, closes the socket with 4403. An access change another process tells of (the
event hub) re-checks the socket's token at once, so an open socket closes within a moment of
its revocation even while it only listens.
"""

from __future__ import annotations

import asyncio
import logging
from contextlib import ExitStack
from dataclasses import replace
from typing import Any

from pymongo.errors import PyMongoError
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import (
    ConnectionInitMessage,
    Message,
)

from marketing_contacts.domain.errors import MAX_ID_LENGTH
from marketing_contacts.http.auth import new_request_id
from marketing_contacts.schema.context import RequestContext
from marketing_contacts.schema.errors import DATABASE_UNAVAILABLE
from marketing_contacts.services.ports.events import AccessChanged

log = logging.getLogger(__name__)

#: the messages a client of graphql-transport-ws sends
MESSAGE_TYPES = frozenset({"connection_init", "ping", "pong", "subscribe", "complete"})
#: RFC 6455's close code for "the server cannot serve this now; try again later"
TRY_AGAIN_LATER = 1013
#: graphql-transport-ws's close code for a token that is refused
FORBIDDEN = 4403


def _malformed(message: object) -> str | None:
    """Why the message cannot be handled, or None when its shape is right."""
    if not isinstance(message, dict) or not isinstance(message.get("type"), str):
        return "a message is a JSON object with a string type"
    if message["type"] not in MESSAGE_TYPES:  # strawberry's own refusal would repeat it whole
        return "unknown message type"
    operation_id = message.get("id")
    if isinstance(operation_id, str) and len(operation_id) > MAX_ID_LENGTH:
        return f"an id has at most {MAX_ID_LENGTH} characters"
    if message["type"] != "subscribe":
        return None
    payload = message.get("payload")
    if not isinstance(operation_id, str) or not isinstance(payload, dict):
        return "subscribe carries a string id and an object payload"
    if not isinstance(payload.get("query"), str):
        return "subscribe's payload carries the query as a string"
    if not isinstance(payload.get("variables", {}), dict | None):
        return "subscribe's variables are an object"
    if not isinstance(payload.get("operationName"), str | None):
        return "subscribe's operationName is a string"
    return None


class CheckedTransportWSHandler(BaseGraphQLTransportWSHandler[RequestContext, None]):
    #: the socket's watch of its account's access changes, from connection_ack to the end
    held: ExitStack | None = None
    rechecks: set[asyncio.Task[None]] | None = None

    async def handle_message(self, message: Message) -> None:
        raw: Any = message
        reason = _malformed(raw)
        if reason is not None:
            await self.handle_invalid_message(reason)
            return
        rechecked = raw["type"] == "subscribe" and self.connection_acknowledged
        if rechecked and not await self._still_authorized():
            return
        await super().handle_message(message)

    async def shutdown(self) -> None:
        for task in tuple(self.rechecks or ()):
            task.cancel()
        if self.held is not None:
            self.held.close()
        await super().shutdown()

    async def _still_authorized(self) -> bool:
        """The token as it is now becomes the socket's caller; False, and the socket closes
        with 4403, when it is refused (1013 when the database does not answer)."""
        context = self.context
        try:
            caller = (
                None
                if context.token_secret is None
                else await context.services.tokens.authenticate(context.token_secret)
            )
        except PyMongoError as error:
            log.warning("re-checking a WebSocket's token: the database did not answer: %r", error)
            await self.websocket.close(code=TRY_AGAIN_LATER, reason=DATABASE_UNAVAILABLE)
            return False
        if caller is None:
            context.authenticated = None
            await self.websocket.close(code=FORBIDDEN, reason="Forbidden")
            return False
        # P4: each operation on the socket is a request of its own in the audit log
        context.authenticated = replace(caller, request_id=new_request_id())
        return True

    def _access_changed(self, change: AccessChanged) -> None:
        caller = self.context.authenticated
        concerned = caller is not None and change.concerns(caller.token_id, caller.user_id)
        if not concerned:
            return
        if self.rechecks is None:
            self.rechecks = set()
        task = asyncio.create_task(self._recheck(), name="websocket-token-recheck")
        self.rechecks.add(task)
        task.add_done_callback(self.rechecks.discard)

    async def _recheck(self) -> None:
        try:
            await self._still_authorized()
        except Exception:  # the socket went away meanwhile, or closing it failed
            log.exception("re-checking a WebSocket's token after an access change")

    def _watch_access(self) -> None:
        caller, hub = self.context.authenticated, self.context.hub
        if caller is None or hub is None or not self.connection_acknowledged:
            return
        self.held = ExitStack()
        self.held.enter_context(hub.watch(caller.account_id, self._access_changed))

    async def handle_connection_init(self, message: ConnectionInitMessage) -> None:
        """The token is checked against the database: while it is away, the socket closes with
        1013 and says so, where it used to drop without a close frame."""
        try:
            await super().handle_connection_init(message)
        except PyMongoError as error:
            # as RequireToken does for HTTP: the operator sees why clients are turned away
            log.warning("checking a WebSocket's token: the database did not answer: %r", error)
            await self.websocket.close(code=TRY_AGAIN_LATER, reason=DATABASE_UNAVAILABLE)
            return
        self._watch_access()
