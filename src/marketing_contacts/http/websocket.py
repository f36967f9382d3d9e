"""graphql-transport-ws messages checked for shape before strawberry reads them.

A message that is JSON but not an object, or a subscribe whose payload is not an object with a
string `query`, an object (or no) `variables` and a string (or no) `operationName`, closes the
socket with the protocol's 4400, as any other malformed message does: never an exception inside
the server, never a Python error message sent to the client. A connection_init that cannot be
checked because the database is away closes with 1013, try again later.
"""

from __future__ import annotations

import logging
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
from marketing_contacts.schema.context import RequestContext
from marketing_contacts.schema.errors import DATABASE_UNAVAILABLE

log = logging.getLogger(__name__)

#: the messages a client of graphql-transport-ws sends
MESSAGE_TYPES = frozenset({"connection_init", "ping", "pong", "subscribe", "complete"})
#: RFC 6455's close code for "the server cannot serve this now; try again later"
TRY_AGAIN_LATER = 1013


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
    async def handle_message(self, message: Message) -> None:
        raw: Any = message
        reason = _malformed(raw)
        if reason is not None:
            await self.handle_invalid_message(reason)
            return
        await super().handle_message(message)

    async def handle_connection_init(self, message: ConnectionInitMessage) -> None:
        """The token is checked against the database: while it is away, the socket closes with
        1013 and says so, where it used to drop without a close frame."""
        try:
            await super().handle_connection_init(message)
        except PyMongoError as error:
            # as RequireToken does for HTTP: the operator sees why clients are turned away
            log.warning("checking a WebSocket's token: the database did not answer: %r", error)
            await self.websocket.close(code=TRY_AGAIN_LATER, reason=DATABASE_UNAVAILABLE)
