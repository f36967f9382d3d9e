"""P5 on the WebSocket: how many sockets a token holds open, how many operations a socket runs,
and the rate limit on subscribe messages.

- A token holds at most MAX_SOCKETS_PER_TOKEN acknowledged sockets on one API process (counted
  per process, in memory: a process that dies takes its sockets and its counts with it). The
  socket past that is closed with 4429 instead of being acknowledged: graphql-ws clients treat
  4429 as fatal and do not reconnect in a loop.
- A socket runs at most MAX_SUBSCRIPTIONS_PER_SOCKET operations at once; the subscribe past
  that gets an `error` message for its id, code TOO_MANY, and the socket and its other
  subscriptions go on (graphql-ws hands the error to that one subscription's sink).
- Each subscribe counts once against the token's rate limit (the one HTTP requests count
  against); past it the subscribe gets an `error` message, code RATE_LIMITED with retryAfter,
  and the socket stays open.
"""

from __future__ import annotations

from collections import Counter
from typing import cast

from graphql import GraphQLError
from starlette.datastructures import State
from strawberry.asgi import ASGIWebSocketAdapter
from strawberry.subscriptions.protocols.graphql_transport_ws.types import (
    Message,
    SubscribeMessage,
)

from marketing_contacts.domain.errors import ErrorCode
from marketing_contacts.http.rate_limits import rate_limited_error
from marketing_contacts.http.websocket import CheckedTransportWSHandler
from marketing_contacts.runtime import Runtime

#: graphql-transport-ws's "too many": the socket is not taken up, and clients do not retry it
TOO_MANY_SOCKETS = 4429


class SocketSlots:
    """The open sockets of each token in this process."""

    def __init__(self, per_token: int) -> None:
        self.per_token = per_token
        self.open: Counter[str] = Counter()

    def take(self, token_id: str) -> bool:
        if self.open[token_id] >= self.per_token:
            return False
        self.open[token_id] += 1
        return True

    def give_back(self, token_id: str) -> None:
        self.open[token_id] -= 1
        if self.open[token_id] <= 0:
            del self.open[token_id]


class LimitedTransportWSHandler(CheckedTransportWSHandler):
    #: the token whose socket slot this socket holds, once acknowledged
    holder: str | None = None

    @property
    def runtime(self) -> Runtime:
        runtime: Runtime = self._app_state.runtime
        return runtime

    @property
    def slots(self) -> SocketSlots:
        """The open sockets of each token in this process (P5)."""
        slots: SocketSlots = self._app_state.socket_slots
        return slots

    @property
    def _app_state(self) -> State:
        state: State = cast(ASGIWebSocketAdapter, self.websocket).ws.app.state
        return state

    async def send_message(self, message: Message) -> None:
        """The acknowledgement is where a socket opens for its token: past the token's sockets,
        the socket closes with 4429 instead."""
        caller = self.context.authenticated
        if message["type"] == "connection_ack" and caller is not None:
            if not self.slots.take(caller.token_id):
                reason = f"a token holds at most {self.slots.per_token} open sockets"
                await self.websocket.close(code=TOO_MANY_SOCKETS, reason=reason)
                return
            self.holder = caller.token_id
        await super().send_message(message)

    async def shutdown(self) -> None:
        try:
            await super().shutdown()
        finally:
            if self.holder is not None:
                self.slots.give_back(self.holder)
                self.holder = None

    async def handle_subscribe(self, message: SubscribeMessage) -> None:
        """A subscribe past the socket's operations or the token's rate is answered with an
        error for its id (the protocol's own refusals, before the ack or of an id in use,
        come first)."""
        caller = self.context.authenticated
        if self.connection_acknowledged and caller and message["id"] not in self.operations:
            error = await self._refusal(caller.token_id)
            if error is not None:
                await self.send_message(
                    {"id": message["id"], "type": "error", "payload": [error.formatted]}
                )
                return
        await super().handle_subscribe(message)

    async def _refusal(self, token_id: str) -> GraphQLError | None:
        most = self.max_subscriptions_per_connection
        if most is not None and len(self.operations) >= most:
            return GraphQLError(
                f"a socket runs at most {most} operations at once; complete one first",
                extensions={"code": ErrorCode.TOO_MANY.value},
            )
        admission = await self.runtime.rate_limiter.admit(token_id)
        return None if admission.admitted else rate_limited_error(self.runtime, admission)
