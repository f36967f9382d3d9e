"""What every resolver gets: the caller and the services (one context per request)."""

from __future__ import annotations

from dataclasses import dataclass

import strawberry

from marketing_contacts.services.callers import Caller
from marketing_contacts.services.registry import Services


@dataclass
class RequestContext:
    caller: Caller
    services: Services


Info = strawberry.Info[RequestContext, None]
