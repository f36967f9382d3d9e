"""Email activity over the fakes (C7, S6, P3, P4): an event is stored against its address
whether a contact has it or not, and a contact shows its address's events, those from before
it existed too; a hard bounce or an unsubscribe marks the contact (the status stays), and the
unengaged selection finds it; bad input is refused at its field with nothing stored."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from marketing_contacts.domain.bulk import Selection
from marketing_contacts.domain.email_events import EmailEventType
from marketing_contacts.domain.errors import ErrorCode
from marketing_contacts.domain.statuses import MarketingState, MarketingStatus
from marketing_contacts.domain.users import RecordVisibility
from marketing_contacts.domain.visibility import Scope
from marketing_contacts.services.contacts import ContactDraft
from marketing_contacts.services.email_events import EmailEventDraft
from marketing_contacts.services.users import UserDraft
from tests.unit.services.fakes import codes_and_fields, fake_services, open_account

SENT, BOUNCED = EmailEventType.SENT, EmailEventType.HARD_BOUNCED


async def test_c7_a_contact_shows_the_events_of_its_address_from_before_it_existed() -> None:
    services, world = fake_services()
    admin = await open_account(services)
    now = world.clock.now()
    earlier = await services.email_activity.record(
        admin, EmailEventDraft("Ada@Example.com", SENT, now - timedelta(days=2))
    )
    contact = await services.contacts.create(admin, ContactDraft(email="ada@example.com"))
    later = await services.email_activity.record(
        admin, EmailEventDraft("ada@example.com", EmailEventType.OPENED, now, "spring")
    )
    assert contact.email is not None
    page = await services.email_activity.page(admin, contact.email, 20, None)
    assert page.items == [later, earlier]
    firsts = await services.email_activity.first_pages(admin, [contact.email], 1)
    assert firsts[contact.email].items == [later]
    assert [e.action for e in world.data.audit][-1] == "recordEmailEvent"
    assert world.data.audit[-1].record_ids == (later.id, contact.id)


@pytest.mark.parametrize(
    ("kind", "bounced", "unsubscribed"),
    [
        (EmailEventType.HARD_BOUNCED, True, False),
        (EmailEventType.UNSUBSCRIBED, False, True),
        (EmailEventType.CLICKED, False, False),
    ],
)
async def test_s6_a_bounce_or_an_unsubscribe_marks_the_contact_and_keeps_its_status(
    kind: EmailEventType, bounced: bool, unsubscribed: bool
) -> None:
    services, world = fake_services()
    admin = await open_account(services)
    contact = await services.contacts.create(
        admin, ContactDraft(email="eve@example.com", marketing_status=MarketingStatus.MARKETING)
    )
    await services.email_activity.record(
        admin, EmailEventDraft("EVE@example.com", kind, world.clock.now())
    )
    stored = world.contact(contact.id)
    assert (stored.email_hard_bounced, stored.unsubscribed_from_all) == (bounced, unsubscribed)
    assert stored.state is MarketingState.MARKETING
    unengaged = await world.ports().contacts.count_by_state(
        Scope(admin.account_id), Selection(unengaged=True)
    )
    assert unengaged == ({MarketingState.MARKETING: 1} if bounced or unsubscribed else {})


async def test_p3_an_event_marks_only_a_contact_the_caller_sees() -> None:
    services, world = fake_services()
    admin = await open_account(services)
    owned_user = await services.users.create(
        admin, UserDraft(name="Sam", email="sam@example.com", visibility=RecordVisibility.OWNED)
    )
    _, secret = await services.tokens.issue(owned_user, "t")
    owned = await services.tokens.authenticate(secret)
    assert owned is not None
    hidden = await services.contacts.create(admin, ContactDraft(email="hidden@example.com"))
    event = await services.email_activity.record(
        owned, EmailEventDraft("hidden@example.com", BOUNCED, world.clock.now())
    )
    assert not world.contact(hidden.id).email_hard_bounced
    assert world.data.audit[-1].record_ids == (event.id,)


@pytest.mark.parametrize(
    ("draft", "field"),
    [
        (EmailEventDraft("not an address", SENT, datetime(2025, 1, 1)), ("email",)),
        (EmailEventDraft("  ", SENT, datetime(2025, 1, 1)), ("email",)),
        (EmailEventDraft("a@example.com", SENT, datetime(2025, 1, 1), "x" * 201), ("campaign_id",)),
        (EmailEventDraft("a@example.com", SENT, datetime(2099, 1, 1)), ("occurred_at",)),
        # an event's id carries the second it happened, from 1970 on
        (EmailEventDraft("a@example.com", SENT, datetime(1969, 12, 31)), ("occurred_at",)),
    ],
)
async def test_a_bad_event_is_refused_at_its_field_and_nothing_is_stored(
    draft: EmailEventDraft, field: tuple[str, ...]
) -> None:
    services, world = fake_services()
    admin = await open_account(services)
    draft = EmailEventDraft(
        draft.email,
        draft.type,
        draft.occurred_at.replace(tzinfo=world.clock.now().tzinfo),
        draft.campaign_id,
    )
    entries = len(world.data.audit)
    with pytest.raises(Exception) as refused:
        await services.email_activity.record(admin, draft)
    assert codes_and_fields(refused.value) == [(ErrorCode.INVALID, field)]
    assert world.data.email_events == []
    assert len(world.data.audit) == entries
