"""Chatflows and connected apps (F2, F3, F4): the account's intake channels that create
contacts, each with its own setContactsAsMarketing setting, off by default (D2).

A contact created through one starts in the status the channel's setting gives it at that
moment (`status_for_new_contact`), its status source naming the channel; changing the setting
changes no existing contact. Turning the setting on is making contacts marketing: it needs
marketing access (F4, P2), which `check_may_turn_on` asks for; the contacts that come in through
the channel afterwards need no further check. `toggled` keeps when the setting was last turned
on (marketingSince), and forgets it when it is turned off.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from marketing_contacts.domain.creation import CreationSource
from marketing_contacts.domain.errors import record_name
from marketing_contacts.domain.permissions import check_marketing_access
from marketing_contacts.domain.statuses import MarketingStatus, StatusSource, StatusSourceType

#: how many chatflows, and how many connected apps, one account keeps: `chatflows` and
#: `integrations` answer them all in one read
MAX_APPS_PER_ACCOUNT = 100


class AppKind(StrEnum):
    """The two kinds of intake channel, each with its collection and its creation source."""

    CHATFLOW = "CHATFLOW"
    INTEGRATION = "INTEGRATION"

    @property
    def created_via(self) -> CreationSource:
        """F2, F3: what a contact created through a channel of this kind shows as createdVia."""
        if self is AppKind.CHATFLOW:
            return CreationSource.CHATFLOW
        return CreationSource.INTEGRATION

    @property
    def source_type(self) -> StatusSourceType:
        """S4: the status source type of a contact whose status a channel of this kind chose."""
        if self is AppKind.CHATFLOW:
            return StatusSourceType.CHATFLOW
        return StatusSourceType.INTEGRATION

    @property
    def noun(self) -> str:
        return "chatflow" if self is AppKind.CHATFLOW else "integration"


@dataclass(frozen=True)
class App:
    """A chatflow or a connected app of an account (account-wide: no owner)."""

    id: str
    account_id: str
    kind: AppKind
    name: str
    created_at: datetime
    updated_at: datetime
    #: F2, F3: contacts created through it are marketing while this is on
    sets_marketing: bool = False
    #: F3: when the setting was last turned on; None while it is off
    marketing_since: datetime | None = None

    @property
    def status_source(self) -> StatusSource:
        """S4: the source a contact's status names when this channel chose it."""
        return StatusSource(self.kind.source_type, self.id)


def app_name(kind: AppKind, raw: str, *field: str) -> str:
    return record_name(kind.noun, raw, *field)


def new_app(
    app_id: str, account_id: str, kind: AppKind, name: str, sets_marketing: bool, at: datetime
) -> App:
    """A new channel; on from the start, it is marketing since its creation (F3)."""
    return App(
        id=app_id,
        account_id=account_id,
        kind=kind,
        name=name,
        created_at=at,
        updated_at=at,
        sets_marketing=sets_marketing,
        marketing_since=at if sets_marketing else None,
    )


def check_may_turn_on(
    sets_marketing: bool, *, marketing_access: bool, field: tuple[str, ...]
) -> None:
    """F4, P2: a setting that makes contacts marketing needs marketing access to turn on (or
    to create on); turning it off needs none."""
    check_marketing_access(
        MarketingStatus.MARKETING if sets_marketing else MarketingStatus.NON_MARKETING,
        marketing_access=marketing_access,
        field=field,
        what="turning on setContactsAsMarketing",
    )


def toggled(app: App, sets_marketing: bool, at: datetime) -> App | None:
    """The channel with its setting changed (marketingSince: now when turned on, None when
    off); None when it is so already, which writes nothing."""
    if app.sets_marketing is sets_marketing:
        return None
    return replace(
        app,
        sets_marketing=sets_marketing,
        marketing_since=at if sets_marketing else None,
        updated_at=at,
    )


def status_for_new_contact(app: App) -> MarketingStatus:
    """F2, F3 (D2): a contact created through the channel is marketing only while its setting
    is on; off (the default), it is non-marketing."""
    return MarketingStatus.MARKETING if app.sets_marketing else MarketingStatus.NON_MARKETING
