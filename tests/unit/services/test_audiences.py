"""AudienceService over the fakes: H1, H2 audiences of a selection, in the caller's scope (P3)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from marketing_contacts.domain.bulk import Selection
from marketing_contacts.domain.channels import AudienceCounts, Channel, Exclusion
from marketing_contacts.domain.errors import DomainError, ErrorCode
from marketing_contacts.domain.filters import ContactFilter
from marketing_contacts.domain.statuses import MarketingStatus
from marketing_contacts.domain.users import RecordVisibility, Role
from marketing_contacts.services.callers import Caller
from marketing_contacts.services.contacts import ContactDraft
from marketing_contacts.services.registry import Services
from marketing_contacts.services.users import UserDraft
from tests.unit.services.fakes import codes_and_fields, fake_services, open_account

MARKETING, NON_MARKETING = MarketingStatus.MARKETING, MarketingStatus.NON_MARKETING
NON, UNENGAGED, NO_EMAIL = Exclusion.NON_MARKETING, Exclusion.UNENGAGED, Exclusion.NO_EMAIL
EVERYONE = Selection(filter=ContactFilter())

#: name -> (status, has an email, hard-bounced, unsubscribed from all)
KINDS = {
    "m": (MARKETING, True, False, False),
    "n": (NON_MARKETING, True, False, False),
    "m-unsubscribed": (MARKETING, True, False, True),
    "m-bounced": (MARKETING, True, True, False),
    "m-no-email": (MARKETING, False, False, False),
    "n-no-email": (NON_MARKETING, False, False, False),
}


@dataclass
class Account:
    services: Services
    admin: Caller
    ids: dict[str, str]


async def account() -> Account:
    services, _ = fake_services()
    admin = await open_account(services)
    ids = {}
    for name, (status, has_email, bounced, unsubscribed) in KINDS.items():
        made = await services.contacts.create(
            admin,
            ContactDraft(
                marketing_status=status,
                email=f"{name}@example.com" if has_email else None,
                email_hard_bounced=bounced,
                unsubscribed_from_all=unsubscribed,
            ),
        )
        ids[name] = made.id
    return Account(services, admin, ids)


def counts(reachable: int, non: int = 0, unengaged: int = 0, no_email: int = 0) -> AudienceCounts:
    excluded = {NON: non, UNENGAGED: unengaged, NO_EMAIL: no_email}
    return AudienceCounts(matched=reachable + sum(excluded.values()), reachable=reachable,
                          excluded=excluded)  # fmt: skip


@pytest.mark.parametrize(
    ("channel", "expected", "reached"),
    [
        (Channel.MARKETING_EMAIL, counts(1, non=2, unengaged=2, no_email=1), ["m"]),
        (Channel.ADS, counts(4, non=2), ["m", "m-unsubscribed", "m-bounced", "m-no-email"]),
        (Channel.WORKFLOW_MARKETING_ACTION, counts(4, non=2),
         ["m", "m-unsubscribed", "m-bounced", "m-no-email"]),
        (Channel.SALES_EMAIL, counts(4, no_email=2), ["m", "n", "m-unsubscribed", "m-bounced"]),
        (Channel.TICKET_EMAIL, counts(4, no_email=2), ["m", "n", "m-unsubscribed", "m-bounced"]),
    ],
)  # fmt: skip
async def test_h1_h2_an_audience_counts_and_lists_whom_the_channel_reaches(
    channel: Channel, expected: AudienceCounts, reached: list[str]
) -> None:
    found = await account()
    audiences = found.services.audiences
    assert await audiences.counts(found.admin, channel, EVERYONE) == expected
    page = await audiences.reachable(found.admin, channel, EVERYONE, 50, None)
    assert [c.id for c in page.items] == [found.ids[name] for name in reached]


async def test_h1_an_audience_of_ids_counts_those_contacts_only() -> None:
    found = await account()
    ids = Selection(ids=(found.ids["n"], found.ids["m"], "no-such-contact"))
    counted = await found.services.audiences.counts(found.admin, Channel.MARKETING_EMAIL, ids)
    assert counted == counts(1, non=1)


async def test_h1_the_reachable_contacts_page_on_with_their_cursors() -> None:
    found = await account()
    audiences, admin = found.services.audiences, found.admin
    first = await audiences.reachable(admin, Channel.ADS, EVERYONE, 3, None)
    rest = await audiences.reachable(admin, Channel.ADS, EVERYONE, 3, first.cursors[-1])
    assert (first.has_next_page, rest.has_next_page) == (True, False)
    assert [c.id for c in [*first.items, *rest.items]] == [
        found.ids[name] for name in ["m", "m-unsubscribed", "m-bounced", "m-no-email"]
    ]


async def test_p3_an_owned_member_audience_counts_only_what_it_sees() -> None:
    found = await account()
    services = found.services
    member = await services.users.create(
        found.admin,
        UserDraft(name="Sam", email="sam@example.com", role=Role.MEMBER,
                  visibility=RecordVisibility.OWNED),
    )  # fmt: skip
    _, secret = await services.tokens.issue(member, "tests")
    caller = await services.tokens.authenticate(secret)
    assert caller is not None
    own = await services.contacts.create(
        found.admin,
        ContactDraft(marketing_status=MARKETING, email="own@example.com", owner_id=member.id),
    )
    counted = await services.audiences.counts(caller, Channel.MARKETING_EMAIL, EVERYONE)
    assert counted == counts(1)
    page = await services.audiences.reachable(caller, Channel.MARKETING_EMAIL, EVERYONE, 50, None)
    assert [c.id for c in page.items] == [own.id]


@pytest.mark.parametrize(
    ("selection", "field"),
    [
        (Selection(list_id="gone"), ("selection", "list_id")),
        (Selection(filter=ContactFilter(list_id="gone")), ("selection", "filter", "list_id")),
    ],
)
async def test_h1_an_audience_of_a_list_that_is_not_live_is_not_found(
    selection: Selection, field: tuple[str, ...]
) -> None:
    found = await account()
    audiences = found.services.audiences
    for read in (
        audiences.counts(found.admin, Channel.ADS, selection),
        audiences.reachable(found.admin, Channel.ADS, selection, 10, None),
    ):
        with pytest.raises(DomainError) as refused:
            await read
        assert codes_and_fields(refused.value) == [(ErrorCode.NOT_FOUND, field)]


async def test_h1_a_page_of_an_audience_takes_1_to_200_contacts_and_its_own_cursors() -> None:
    found = await account()
    audiences = found.services.audiences
    for first, after in [(0, None), (201, None), (10, "not-a-cursor")]:
        with pytest.raises(DomainError) as refused:
            await audiences.reachable(found.admin, Channel.ADS, EVERYONE, first, after)
        assert codes_and_fields(refused.value)[0][0] is ErrorCode.INVALID
