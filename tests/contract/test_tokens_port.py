"""TokenStore: a token is found by the hash of its secret, and only by it."""

from __future__ import annotations

from marketing_contacts.services.ports.tokens import ApiToken
from marketing_contacts.services.wiring import Ports
from tests.contract.records import now, stored_account


async def test_a_token_is_found_by_the_hash_of_its_secret(ports: Ports) -> None:
    first, second = await stored_account(ports), await stored_account(ports)
    tokens = [
        ApiToken(ports.ids.new_id(), first.id, "ci", True, "hash-1", now(ports)),
        ApiToken(ports.ids.new_id(), second.id, "reporting", False, "hash-2", now(ports)),
    ]
    for token in tokens:
        await ports.tokens.insert(token)
    assert [await ports.tokens.find_by_hash(h) for h in ("hash-1", "hash-2")] == tokens
    assert await ports.tokens.find_by_hash("hash-3") is None
    assert await ports.tokens.find_by_hash("") is None
