"""What every resolver gets: the caller and the services (one context per request or
WebSocket connection)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import strawberry
from strawberry.dataloader import DataLoader

from marketing_contacts.domain.errors import DomainError, ErrorCode, refuse
from marketing_contacts.domain.statuses import HistoryEntry
from marketing_contacts.services.callers import Caller
from marketing_contacts.services.paging import Page
from marketing_contacts.services.registry import Services
from marketing_contacts.services.subscriptions import EventFeed

#: (contact id, its status_seq as read, first) -> the first page of its history
HistoryLoader = DataLoader[tuple[str, int, int], Page[HistoryEntry]]
#: how many history entries a contact has, by contact id
HistoryCounts = DataLoader[str, int]


@dataclass
class RequestContext:
    services: Services
    #: set by the HTTP token check, or by connection_init on a WebSocket
    authenticated: Caller | None = None
    hub: EventFeed | None = None
    #: the graphql-transport-ws connection_init payload
    connection_params: dict[str, Any] | None = None
    #: a WebSocket's token, checked again at each operation (P1)
    token_secret: str | None = field(default=None, repr=False)
    _history: HistoryLoader | None = field(default=None, repr=False)
    _history_counts: HistoryCounts | None = field(default=None, repr=False)
    #: the request's shared loaders of users and teams (schema.users.Loaders), made at first use
    shared_loaders: Any = field(default=None, repr=False)
    #: the request's loader of companies (schema.companies.company_loader), made at first use
    company_loader: Any = field(default=None, repr=False)
    #: the request's loader of records' first pages of deals (schema.deals), made at first use
    deals_loader: Any = field(default=None, repr=False)
    #: the request's loader of email activity (schema.email_events), made at first use
    email_activity_loader: Any = field(default=None, repr=False)
    #: the request's loader of records' engagements (schema.engagements), made at first use
    engagement_loader: Any = field(default=None, repr=False)
    #: which records the engagements list the caller sees (schema.engagements), at first use
    seen_record_loader: Any = field(default=None, repr=False)
    #: the request's loader of form submissions' contacts (schema.forms), made at first use
    submitter_loader: Any = field(default=None, repr=False)

    @property
    def caller(self) -> Caller:
        if self.authenticated is None:
            raise refuse(ErrorCode.FORBIDDEN, "not authenticated")
        return self.authenticated

    @property
    def first_history_pages(self) -> HistoryLoader:
        """Per request (design principle 7): the first history pages a page of contacts asks
        for are read together."""
        if self._history is None:
            self._history = DataLoader(load_fn=self._load_first_history_pages)
        return self._history

    @property
    def history_counts(self) -> HistoryCounts:
        """Per request: the history sizes a page of contacts asks for are counted together."""
        if self._history_counts is None:
            self._history_counts = DataLoader(load_fn=self._count_histories)
        return self._history_counts

    async def _count_histories(self, contact_ids: list[str]) -> list[int]:
        counts = await self.services.contacts.history_counts(self.caller, contact_ids)
        return [counts[contact_id] for contact_id in contact_ids]

    async def _load_first_history_pages(
        self, keys: list[tuple[str, int, int]]
    ) -> list[Page[HistoryEntry] | BaseException]:
        by_first: dict[int, dict[str, int]] = {}
        for contact_id, newest, first in keys:
            by_first.setdefault(first, {})[contact_id] = newest
        pages: dict[tuple[str, int, int], Page[HistoryEntry] | BaseException] = {}
        for first, contacts in by_first.items():
            try:
                found = await self.services.contacts.first_history_pages(
                    self.caller, contacts, first
                )
            except DomainError as error:
                pages.update({(cid, seq, first): error for cid, seq in contacts.items()})
            else:
                pages.update({(cid, seq, first): found[cid] for cid, seq in contacts.items()})
        return [pages[key] for key in keys]


Info = strawberry.Info[RequestContext, None]
