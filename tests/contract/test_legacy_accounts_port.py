"""AccountStore for K1: an account opened without marketing contacts reads back so, and
switching the feature on writes the flag, its operation and its audit entry together, at the
revision it was read at, or nothing."""

from __future__ import annotations

from dataclasses import replace

import pytest

from marketing_contacts.domain.accounts import Account, with_marketing_contacts
from marketing_contacts.domain.audit import Actor, AuditEntry
from marketing_contacts.domain.bulk import (
    BulkOperation,
    BulkOperationStatus,
    BulkProgress,
    Selection,
)
from marketing_contacts.domain.filters import ContactFilter
from marketing_contacts.domain.statuses import MarketingStatus, StatusSourceType
from marketing_contacts.domain.visibility import Scope
from marketing_contacts.services.ports.changes import StaleWrite
from marketing_contacts.services.wiring import Ports
from tests.contract.records import stored_account


def enablement(ports: Ports, account: Account) -> tuple[Account, BulkOperation, AuditEntry]:
    after = with_marketing_contacts(account)
    assert after is not None
    operation = BulkOperation(
        id=ports.ids.new_id(),
        account_id=account.id,
        target=MarketingStatus.NON_MARKETING,
        selection=Selection(filter=ContactFilter()),
        status=BulkOperationStatus.QUEUED,
        created_at=ports.clock.now(),
        requested_by="u1",
        progress=BulkProgress(matched=account.counts.total),
        source_type=StatusSourceType.LEGACY,
    )
    audit = ports.audit_entry(
        account.id, Actor("u1"), "enableMarketingContacts", [account.id, operation.id]
    )
    return after, operation, audit


@pytest.mark.parametrize("enabled", [True, False])
async def test_k1_an_account_reads_back_with_its_marketing_contacts_setting(
    ports: Ports, enabled: bool
) -> None:
    account = await stored_account(ports, marketing_contacts_enabled=enabled)
    assert await ports.accounts.get(account.id) == account


async def test_k1_enabling_writes_the_flag_the_operation_and_the_entry(ports: Ports) -> None:
    account = await stored_account(ports, marketing_contacts_enabled=False, revision=3)
    after, operation, audit = enablement(ports, account)
    await ports.accounts.enable_marketing_contacts(account, after, operation, audit)
    assert await ports.accounts.get(account.id) == after
    assert after.revision == 4
    assert await ports.operations.load(operation.id) == operation
    entries = (await ports.audit.page(Scope(account.id), None, 10, None)).items
    assert [(e.action, e.record_ids) for e in entries] == [
        ("enableMarketingContacts", (account.id, operation.id))
    ]


async def test_k1_enabling_at_a_moved_revision_writes_nothing(ports: Ports) -> None:
    account = await stored_account(ports, marketing_contacts_enabled=False)
    after, operation, audit = enablement(ports, account)
    with pytest.raises(StaleWrite):
        await ports.accounts.enable_marketing_contacts(
            replace(account, revision=account.revision - 1), after, operation, audit
        )
    assert await ports.accounts.get(account.id) == account
    assert await ports.operations.load(operation.id) is None
    assert (await ports.audit.page(Scope(account.id), None, 10, None)).items == []
