"""The API tokens collection: hashes only."""

from __future__ import annotations

from pymongo import ASCENDING, IndexModel

from marketing_contacts.services.ports.tokens import ApiToken
from marketing_contacts.storage.codec import token_doc, token_from
from marketing_contacts.storage.database import TOKENS, Mongo

INDEXES = {TOKENS: [IndexModel([("secret_hash", ASCENDING)], unique=True)]}


class MongoTokenStore:
    def __init__(self, mongo: Mongo) -> None:
        self.collection = mongo[TOKENS]

    async def insert(self, token: ApiToken) -> None:
        await self.collection.insert_one(token_doc(token))

    async def find_by_hash(self, secret_hash: str) -> ApiToken | None:
        doc = await self.collection.find_one({"secret_hash": secret_hash})
        return None if doc is None else token_from(doc)
