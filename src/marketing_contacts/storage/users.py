"""The users and teams collections (P1).

Emails are unique per account case-insensitively (`email_key`), team names likewise
(`name_key`): unique indexes decide, so two requests racing for one address cannot both win.
Pages of users run oldest first on (account_id, _id); a team's members are read on
(account_id, team_id, _id), the account's active admins counted on (account_id, role,
deactivated).
"""

from __future__ import annotations

from collections.abc import Sequence

from bson import ObjectId
from pymongo import ASCENDING, IndexModel
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.errors import DuplicateKeyError

from marketing_contacts.domain.audit import AuditEntry
from marketing_contacts.domain.users import (
    RecordVisibility,
    Role,
    Team,
    User,
    team_name_key,
    user_email_key,
)
from marketing_contacts.services.paging import Page
from marketing_contacts.services.ports.changes import StaleWrite
from marketing_contacts.services.ports.users import (
    MAX_TEAM_MEMBERS,
    MAX_TEAMS,
    DuplicateTeam,
    DuplicateUser,
)
from marketing_contacts.storage.audit import with_entry
from marketing_contacts.storage.database import TEAMS, USERS, Doc, Mongo
from marketing_contacts.storage.ids import oid
from marketing_contacts.storage.paging import Keyset, keyset_page

PAGES = Keyset("user")

INDEXES = {
    USERS: [
        IndexModel([("account_id", ASCENDING), ("email_key", ASCENDING)], unique=True),
        IndexModel([("account_id", ASCENDING), ("_id", ASCENDING)]),
        IndexModel([("account_id", ASCENDING), ("team_id", ASCENDING), ("_id", ASCENDING)]),
        IndexModel([("account_id", ASCENDING), ("role", ASCENDING), ("deactivated", ASCENDING)]),
    ],
    TEAMS: [
        IndexModel([("account_id", ASCENDING), ("name_key", ASCENDING)], unique=True),
        IndexModel([("account_id", ASCENDING), ("_id", ASCENDING)]),
    ],
}


def user_doc(user: User) -> Doc:
    return {
        "_id": ObjectId(user.id),
        "account_id": ObjectId(user.account_id),
        "name": user.name,
        "email": user.email,
        "email_key": user_email_key(user.email),
        "role": user.role.value,
        "team_id": None if user.team_id is None else ObjectId(user.team_id),
        "visibility": user.visibility.value,
        "marketing_access": user.marketing_access,
        "deactivated": user.deactivated,
        "created_at": user.created_at,
        "revision": user.revision,
    }


def user_from(doc: Doc) -> User:
    team_id = doc.get("team_id")
    return User(
        id=str(doc["_id"]),
        account_id=str(doc["account_id"]),
        name=doc["name"],
        email=doc["email"],
        role=Role(doc["role"]),
        created_at=doc["created_at"],
        team_id=None if team_id is None else str(team_id),
        visibility=RecordVisibility(doc["visibility"]),
        marketing_access=doc["marketing_access"],
        deactivated=doc["deactivated"],
        revision=doc["revision"],
    )


def team_doc(team: Team) -> Doc:
    return {
        "_id": ObjectId(team.id),
        "account_id": ObjectId(team.account_id),
        "name": team.name,
        "name_key": team_name_key(team.name),
        "created_at": team.created_at,
    }


def team_from(doc: Doc) -> Team:
    return Team(
        id=str(doc["_id"]),
        account_id=str(doc["account_id"]),
        name=doc["name"],
        created_at=doc["created_at"],
    )


def _keys(ids: Sequence[str]) -> list[ObjectId]:
    return [key for key in map(oid, dict.fromkeys(ids)) if key is not None]


class MongoUserStore:
    def __init__(self, mongo: Mongo) -> None:
        self.mongo = mongo
        self.collection = mongo[USERS]

    async def insert(self, user: User, audit: AuditEntry | None = None) -> None:
        async def write(session: AsyncClientSession | None) -> None:
            await self.collection.insert_one(user_doc(user), session=session)

        try:
            await with_entry(self.mongo, audit, write)
        except DuplicateKeyError as error:
            raise DuplicateUser(user.email) from error

    async def get(self, account_id: str, user_id: str) -> User | None:
        key = oid(user_id)
        if key is None:
            return None
        doc = await self.collection.find_one({"_id": key, "account_id": oid(account_id)})
        return None if doc is None else user_from(doc)

    async def get_many(self, account_id: str, user_ids: Sequence[str]) -> list[User]:
        keys = _keys(user_ids)
        if not keys:
            return []
        cursor = self.collection.find({"account_id": oid(account_id), "_id": {"$in": keys}})
        return [user_from(doc) async for doc in cursor]

    async def page(self, account_id: str, first: int, after: str | None) -> Page[User]:
        query: Doc = {"account_id": oid(account_id)}
        return await keyset_page(self.collection, query, PAGES, first, after, user_from)

    async def replace(self, before: User, after: User, audit: AuditEntry | None = None) -> None:
        doc = user_doc(after)
        del doc["_id"]

        async def write(session: AsyncClientSession | None) -> None:
            result = await self.collection.update_one(
                {
                    "_id": oid(before.id),
                    "account_id": oid(before.account_id),
                    "revision": before.revision,
                },
                {"$set": doc},
                session=session,
            )
            if result.matched_count != 1:
                raise StaleWrite(before.id)

        await with_entry(self.mongo, audit, write)

    async def count(self, account_id: str) -> int:
        return await self.collection.count_documents({"account_id": oid(account_id)})

    async def count_active_admins(self, account_id: str) -> int:
        return await self.collection.count_documents(
            {"account_id": oid(account_id), "role": Role.ADMIN.value, "deactivated": False}
        )

    async def members(self, account_id: str, team_ids: Sequence[str]) -> dict[str, list[User]]:
        keys = _keys(team_ids)
        found: dict[str, list[User]] = {team_id: [] for team_id in team_ids}
        if not keys:
            return found
        cursor = self.collection.find(
            {"account_id": oid(account_id), "team_id": {"$in": keys}}
        ).sort([("team_id", ASCENDING), ("_id", ASCENDING)])
        async for doc in cursor.limit(MAX_TEAM_MEMBERS * len(keys)):
            user = user_from(doc)
            assert user.team_id is not None
            members = found.setdefault(user.team_id, [])
            if len(members) < MAX_TEAM_MEMBERS:
                members.append(user)
        return found

    async def member_ids(self, account_id: str, team_id: str) -> list[str]:
        key = oid(team_id)
        if key is None:
            return []
        cursor = self.collection.find(
            {"account_id": oid(account_id), "team_id": key}, {"_id": 1}
        ).sort("_id", ASCENDING)
        return [str(doc["_id"]) async for doc in cursor.limit(MAX_TEAM_MEMBERS)]


class MongoTeamStore:
    def __init__(self, mongo: Mongo) -> None:
        self.mongo = mongo
        self.collection = mongo[TEAMS]

    async def insert(self, team: Team, audit: AuditEntry | None = None) -> None:
        async def write(session: AsyncClientSession | None) -> None:
            await self.collection.insert_one(team_doc(team), session=session)

        try:
            await with_entry(self.mongo, audit, write)
        except DuplicateKeyError as error:
            raise DuplicateTeam(team.name) from error

    async def get_many(self, account_id: str, team_ids: Sequence[str]) -> list[Team]:
        keys = _keys(team_ids)
        if not keys:
            return []
        cursor = self.collection.find({"account_id": oid(account_id), "_id": {"$in": keys}})
        return [team_from(doc) async for doc in cursor]

    async def all(self, account_id: str) -> list[Team]:
        cursor = self.collection.find({"account_id": oid(account_id)}).sort("_id", ASCENDING)
        return [team_from(doc) async for doc in cursor.limit(MAX_TEAMS)]
