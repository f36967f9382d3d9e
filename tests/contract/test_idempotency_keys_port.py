"""IdempotencyKeys (B5): a key a start held is found in its account until it expires."""

from __future__ import annotations

from datetime import timedelta

from marketing_contacts.services.ports.bulk import IdempotencyKey
from marketing_contacts.services.wiring import Ports
from tests.contract.records import new_operation, now, stored_account


async def test_a_key_is_held_in_its_account_until_it_expires(ports: Ports) -> None:
    account, other = await stored_account(ports), await stored_account(ports)
    operation = new_operation(ports, account)
    expires = now(ports) + timedelta(hours=24)
    key = IdempotencyKey("key-1", "hash-1", operation.id, expires)
    await ports.operations.insert(operation, key)
    held = ports.idempotency.held
    assert await held(account.id, "key-1", now(ports)) == key
    assert await held(account.id, "key-1", expires - timedelta(milliseconds=1)) == key
    assert await held(account.id, "key-1", expires) is None
    assert await held(other.id, "key-1", now(ports)) is None
    assert await held(account.id, "key-2", now(ports)) is None


async def test_a_start_without_a_key_holds_none(ports: Ports) -> None:
    account = await stored_account(ports)
    await ports.operations.insert(new_operation(ports, account), None)
    assert await ports.idempotency.held(account.id, "", now(ports)) is None
