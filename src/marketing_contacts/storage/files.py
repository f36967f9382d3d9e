"""Files every process reads (uploads to import, I1), kept in numbered chunk documents.

A file is written in pieces as it streams in (bounded memory whatever its size) and read back
from any byte on, so a worker resuming an import starts where the last one stopped. The chunks
are kept the way GridFS keeps them (documents of at most CHUNK_BYTES numbered by `n`, read back
in order) in a collection of this module's own, read by the index on (account_id, file_id, n):
GridFS's driver probes its collections with unindexed reads and creates indexes of its own,
which the indexes declared here (and judged by the index guard) would not account for.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator

from bson import Binary, ObjectId
from pymongo import ASCENDING, IndexModel

from marketing_contacts.services.ports.imports import FileTooLarge, StoredFile
from marketing_contacts.storage.database import IMPORT_FILES, Doc, Mongo
from marketing_contacts.storage.ids import oid

#: the size of one chunk document: GridFS's default
CHUNK_BYTES = 255 * 1024
#: chunks a read holds at once
READ_BATCH = 4

INDEXES = {
    IMPORT_FILES: [
        IndexModel(
            [("account_id", ASCENDING), ("file_id", ASCENDING), ("n", ASCENDING)], unique=True
        )
    ]
}


class MongoFileStore:
    def __init__(self, mongo: Mongo, collection: str = IMPORT_FILES) -> None:
        self.chunks = mongo[collection]

    async def put(
        self, account_id: str, name: str, chunks: AsyncIterator[bytes], max_bytes: int
    ) -> StoredFile:
        file_id, account = ObjectId(), oid(account_id)
        digest = hashlib.sha256()
        length, number = 0, 0
        pending = bytearray()

        async def flush(size: int) -> None:
            nonlocal number
            while len(pending) >= size and pending:
                piece = bytes(pending[:CHUNK_BYTES])
                del pending[:CHUNK_BYTES]
                doc: Doc = {
                    "account_id": account,
                    "file_id": file_id,
                    "n": number,
                    "data": Binary(piece),
                }
                if number == 0:
                    doc["name"] = name
                await self.chunks.insert_one(doc)
                number += 1

        try:
            async for piece in chunks:
                length += len(piece)
                if length > max_bytes:
                    raise FileTooLarge(f"the file is larger than {max_bytes} bytes")
                digest.update(piece)
                pending.extend(piece)
                await flush(CHUNK_BYTES)
            await flush(1)
        except BaseException:
            await self.chunks.delete_many({"account_id": account, "file_id": file_id})
            raise
        return StoredFile(str(file_id), length, digest.hexdigest())

    async def read(self, account_id: str, file_id: str, offset: int = 0) -> AsyncIterator[bytes]:
        first, skip = divmod(offset, CHUNK_BYTES)
        found = (
            self.chunks.find(
                {"account_id": oid(account_id), "file_id": ObjectId(file_id), "n": {"$gte": first}},
                {"data": 1},
            )
            .sort("n", ASCENDING)
            .batch_size(READ_BATCH)
        )
        async for doc in found:
            data = bytes(doc["data"])
            if skip:
                data, skip = data[skip:], 0
            if data:
                yield data

    async def delete(self, account_id: str, file_id: str) -> None:
        await self.chunks.delete_many({"account_id": oid(account_id), "file_id": ObjectId(file_id)})
