"""What every resolver gets: the caller and the services (one context per request or
WebSocket connection)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import strawberry

from marketing_contacts.domain.errors import ErrorCode, refuse
from marketing_contacts.events.hub import EventHub
from marketing_contacts.services.callers import Caller
from marketing_contacts.services.registry import Services


@dataclass
class RequestContext:
    services: Services
    #: set by the HTTP token check, or by connection_init on a WebSocket
    authenticated: Caller | None = None
    hub: EventHub | None = None
    #: the graphql-transport-ws connection_init payload
    connection_params: dict[str, Any] | None = None

    @property
    def caller(self) -> Caller:
        if self.authenticated is None:
            raise refuse(ErrorCode.FORBIDDEN, "not authenticated")
        return self.authenticated


Info = strawberry.Info[RequestContext, None]
