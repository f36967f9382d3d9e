"""graphql-transport-ws messages checked for shape before strawberry reads them.

A message that is JSON but not an object, or a subscribe whose payload is not an object with a
string `query`, an object (or no) `variables` and a string (or no) `operationName`, closes the
socket with the protocol's 4400, as any other malformed message does: never an exception inside
the server, never a Python error message sent to the client.
"""

from __future__ import annotations

from typing import Any

from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import Message

from marketing_contacts.schema.context import RequestContext


def _malformed(message: object) -> str | None:
    """Why the message cannot be handled, or None when its shape is right."""
    if not isinstance(message, dict) or not isinstance(message.get("type"), str):
        return "a message is a JSON object with a string type"
    if message["type"] != "subscribe":
        return None
    payload = message.get("payload")
    if not isinstance(message.get("id"), str) or not isinstance(payload, dict):
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
