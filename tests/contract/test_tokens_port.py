"""TokenStore: a token is found by the hash of its secret (never by the secret), or by its id
in its account; revoked for good; its user attached once; last use written at most once per
interval."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from marketing_contacts.domain.accounts import Account
from marketing_contacts.services.ports.tokens import ApiToken
from marketing_contacts.services.wiring import Ports
from tests.contract.records import now, stored_account


def new_token(ports: Ports, account: Account, secret_hash: str, **fields: object) -> ApiToken:
    return replace(
        ApiToken(ports.ids.new_id(), account.id, "ci", True, secret_hash, now(ports)),
        **fields,  # type: ignore[arg-type]
    )


async def test_a_token_is_found_by_the_hash_of_its_secret(ports: Ports) -> None:
    first, second = await stored_account(ports), await stored_account(ports)
    tokens = [
        new_token(ports, first, "hash-1", user_id=ports.ids.new_id()),
        new_token(ports, second, "hash-2", marketing_access=False),
    ]
    for token in tokens:
        await ports.tokens.insert(token)
    assert [await ports.tokens.find_by_hash(h) for h in ("hash-1", "hash-2")] == tokens
    assert await ports.tokens.find_by_hash("hash-3") is None
    assert await ports.tokens.find_by_hash("") is None


async def test_a_token_is_read_and_revoked_only_in_its_account(ports: Ports) -> None:
    account, other = await stored_account(ports), await stored_account(ports)
    token = new_token(ports, account, "hash-1", user_id=ports.ids.new_id())
    await ports.tokens.insert(token)
    assert await ports.tokens.get(account.id, token.id) == token
    assert await ports.tokens.get(other.id, token.id) is None
    assert await ports.tokens.get(account.id, "not-an-id") is None
    assert await ports.tokens.revoke(other.id, token.id) is None
    assert await ports.tokens.revoke(account.id, "not-an-id") is None
    revoked = replace(token, revoked=True)
    assert await ports.tokens.revoke(account.id, token.id) == revoked
    assert await ports.tokens.find_by_hash("hash-1") == revoked


async def test_a_user_is_attached_only_to_a_token_without_one(ports: Ports) -> None:
    account = await stored_account(ports)
    old = new_token(ports, account, "hash-1")
    await ports.tokens.insert(old)
    user_id, other_id = ports.ids.new_id(), ports.ids.new_id()
    await ports.tokens.attach_user(old.id, user_id)
    await ports.tokens.attach_user(old.id, other_id)
    assert await ports.tokens.get(account.id, old.id) == replace(old, user_id=user_id)


async def test_last_use_is_written_once_per_interval(ports: Ports) -> None:
    account = await stored_account(ports)
    token = new_token(ports, account, "hash-1", user_id=ports.ids.new_id())
    await ports.tokens.insert(token)
    start, minute = now(ports), timedelta(minutes=1)
    await ports.tokens.touch(token.id, start, start - minute)
    await ports.tokens.touch(token.id, start + minute / 2, start - minute / 2)
    assert (await ports.tokens.get(account.id, token.id)) == replace(token, last_used_at=start)
    await ports.tokens.touch(token.id, start + minute, start)
    stored = await ports.tokens.get(account.id, token.id)
    assert stored == replace(token, last_used_at=start + minute)
