"""A small graphql-transport-ws client over a real WebSocket (the `websockets` library)."""

from __future__ import annotations

import asyncio
import json
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Origin, Subprotocol

PROTOCOL = "graphql-transport-ws"


#: messages read from a socket for another subscription than the one reading, by socket and id:
#: a subscription reading its next message keeps the others' for them, in order
_HELD: dict[int, dict[str, deque[dict[str, Any]]]] = {}


class Subscription:
    def __init__(self, socket: ClientConnection, operation_id: str) -> None:
        self.socket = socket
        self.id = operation_id
        self.held = _HELD.setdefault(id(socket), {})

    async def next(self, within: float = 10.0) -> dict[str, Any]:
        """The next message for this subscription (next, error or complete); messages of the
        socket's other subscriptions read meanwhile wait for them."""
        mine = self.held.setdefault(self.id, deque())
        async with asyncio.timeout(within):
            while not mine:
                message: dict[str, Any] = json.loads(await self.socket.recv())
                if message.get("type") == "ping":
                    await self.socket.send(json.dumps({"type": "pong"}))
                    continue
                self.held.setdefault(str(message.get("id")), deque()).append(message)
        return mine.popleft()

    async def data(self, within: float = 10.0) -> dict[str, Any]:
        message = await self.next(within)
        assert message["type"] == "next", message
        assert "errors" not in message["payload"], message
        data: dict[str, Any] = message["payload"]["data"]
        return data


@asynccontextmanager
async def graphql_socket(
    url: str, token: str | None, origin: str | None = None
) -> AsyncIterator[ClientConnection]:
    """Connected and acknowledged (connection_init with the bearer token)."""
    async with connect(
        url,
        subprotocols=[Subprotocol(PROTOCOL)],
        origin=None if origin is None else Origin(origin),
        open_timeout=10,
    ) as socket:
        payload = {} if token is None else {"Authorization": f"Bearer {token}"}
        await socket.send(json.dumps({"type": "connection_init", "payload": payload}))
        try:
            yield socket
        finally:
            _HELD.pop(id(socket), None)


async def acknowledged(socket: ClientConnection) -> dict[str, Any]:
    message: dict[str, Any] = json.loads(await asyncio.wait_for(socket.recv(), 10))
    return message


async def subscribe(
    socket: ClientConnection, operation_id: str, query: str, **variables: Any
) -> Subscription:
    await socket.send(
        json.dumps(
            {
                "id": operation_id,
                "type": "subscribe",
                "payload": {"query": query, "variables": variables},
            }
        )
    )
    return Subscription(socket, operation_id)


async def closed_with(socket: ClientConnection, within: float = 10.0) -> tuple[int | None, str]:
    """The code and reason the server closes the socket with, waiting for it; (None, "") when
    it closed with no frame."""
    try:
        message = await asyncio.wait_for(socket.recv(), within)
    except ConnectionClosed as closed:
        return (None, "") if closed.rcvd is None else (closed.rcvd.code, closed.rcvd.reason)
    raise AssertionError(f"the socket stayed open and sent {message!r}")


async def close_code(socket: ClientConnection, within: float = 10.0) -> int | None:
    """The code the server closes the socket with, waiting for it; None: closed with no frame."""
    return (await closed_with(socket, within))[0]
