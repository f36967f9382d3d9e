"""The session's servers are real: MongoDB commands and transactions, Redis PING."""

from __future__ import annotations

from typing import Any

import pytest
import redis.asyncio
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from marketing_contacts.dev.servers import MongoServer, RedisServer
from marketing_contacts.settings import Settings

Document = dict[str, Any]


async def test_mongo_answers_ping(mongo_client: AsyncMongoClient[Document]) -> None:
    reply = await mongo_client.admin.command("ping")

    assert reply["ok"] == 1


async def test_a_transaction_commits(
    mongo_client: AsyncMongoClient[Document], mongo_database: AsyncDatabase[Document]
) -> None:
    contacts = mongo_database["contacts"]
    await contacts.insert_one({"_id": "existing"})  # transactions need an existing collection

    async with mongo_client.start_session() as session, await session.start_transaction():
        await contacts.insert_one({"_id": "c1", "status": "M"}, session=session)
        await contacts.update_one({"_id": "existing"}, {"$set": {"touched": True}}, session=session)

    assert await contacts.find_one({"_id": "c1"}) == {"_id": "c1", "status": "M"}
    assert await contacts.find_one({"_id": "existing"}) == {"_id": "existing", "touched": True}


async def test_an_aborted_transaction_leaves_nothing(
    mongo_client: AsyncMongoClient[Document], mongo_database: AsyncDatabase[Document]
) -> None:
    contacts = mongo_database["aborted"]
    await contacts.insert_one({"_id": "existing"})

    async with mongo_client.start_session() as session:
        await session.start_transaction()
        await contacts.insert_one({"_id": "c2"}, session=session)
        await session.abort_transaction()

    assert await contacts.count_documents({}) == 1


async def test_the_module_database_is_the_one_named(
    mongo_database: AsyncDatabase[Document], mongo_database_name: str
) -> None:
    assert mongo_database.name == mongo_database_name


async def test_redis_answers_ping(redis_server: RedisServer) -> None:
    client = redis.asyncio.Redis.from_url(redis_server.url)
    try:
        assert await client.ping()
    finally:
        await client.aclose()


def test_settings_point_to_the_session_servers(
    settings_for_tests: Settings,
    mongo_server: MongoServer,
    redis_server: RedisServer,
    mongo_database_name: str,
) -> None:
    assert settings_for_tests.mongodb_uri == mongo_server.uri
    assert settings_for_tests.redis_url == redis_server.url
    assert settings_for_tests.mongodb_database == mongo_database_name


def test_each_module_gets_its_own_database_name(pytester: pytest.Pytester) -> None:
    pytester.makeconftest('pytest_plugins = ["tests.support.fixtures"]')
    for module in ("test_first", "test_second"):
        pytester.makepyfile(
            **{
                module: """
                    import pathlib

                    def test_a(mongo_database_name):
                        with pathlib.Path("names.txt").open("a") as names:
                            names.write(mongo_database_name + "\\n")

                    def test_b(mongo_database_name):
                        with pathlib.Path("names.txt").open("a") as names:
                            names.write(mongo_database_name + "\\n")
                """
            }
        )

    result = pytester.runpytest_inprocess(
        "-p", "no:cacheprovider", "-o", "asyncio_default_fixture_loop_scope=session"
    )

    result.assert_outcomes(passed=4)
    first_a, first_b, second_a, second_b = (pytester.path / "names.txt").read_text().split()
    assert first_a == first_b  # one name for all the tests of a module
    assert second_a == second_b
    assert first_a != second_a  # another name for another module
    assert first_a.startswith("t_test_first_")
    assert second_a.startswith("t_test_second_")
