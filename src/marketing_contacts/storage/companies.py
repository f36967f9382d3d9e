"""The companies collection; a contact's associations with them are kept on the contact
(`company_ids`, `primary_company_id`), so a page of a company's contacts reads the contacts
alone, by the index on (account_id, company_ids, _id)."""

from __future__ import annotations

from collections.abc import Sequence

from bson import ObjectId
from pymongo import ASCENDING, IndexModel
from pymongo.asynchronous.client_session import AsyncClientSession

from marketing_contacts.domain.associations import ContactCompany, RecordType
from marketing_contacts.domain.audit import AuditEntry
from marketing_contacts.domain.companies import Company, CompanyFilter
from marketing_contacts.domain.contacts import LifecycleStage
from marketing_contacts.domain.visibility import Scope
from marketing_contacts.services.paging import Page
from marketing_contacts.storage.audit import record, with_entry
from marketing_contacts.storage.database import COMPANIES, CONTACTS, Doc, Mongo
from marketing_contacts.storage.deals import drop_from_deals
from marketing_contacts.storage.engagements import drop_from_engagements
from marketing_contacts.storage.ids import oid
from marketing_contacts.storage.paging import Keyset, keyset_page
from marketing_contacts.storage.scopes import scoped
from marketing_contacts.storage.search import prefix_range
from marketing_contacts.storage.transactions import transact

PAGES = Keyset("company")


def _by_account(*keys: str) -> IndexModel:
    return IndexModel([("account_id", ASCENDING), *((key, ASCENDING) for key in keys)])


INDEXES = {
    COMPANIES: [
        # the account's companies in creation order; by domain; by owner (a filter, and P3)
        _by_account("_id"),
        _by_account("domain", "_id"),
        _by_account("owner_id", "_id"),
        # C11: a prefix of the name or the domain (storage.search)
        _by_account("search_keys", "_id"),
    ]
}


def company_fields(company: Company) -> Doc:
    """Every field of a company that may change after it is created."""
    return {
        "name": company.name,
        "domain": company.domain,
        "owner_id": company.owner_id,
        "lifecycle_stage": None
        if company.lifecycle_stage is None
        else company.lifecycle_stage.value,
        "updated_at": company.updated_at,
        # C11: written with the fields it follows from
        "search_keys": sorted(company.search_keys),
    }


def company_doc(company: Company) -> Doc:
    return {
        "_id": ObjectId(company.id),
        "account_id": ObjectId(company.account_id),
        "created_at": company.created_at,
        **company_fields(company),
    }


def company_from(doc: Doc) -> Company:
    stage = doc["lifecycle_stage"]
    return Company(
        id=str(doc["_id"]),
        account_id=str(doc["account_id"]),
        name=doc["name"],
        created_at=doc["created_at"],
        updated_at=doc["updated_at"],
        domain=doc["domain"],
        owner_id=doc["owner_id"],
        lifecycle_stage=None if stage is None else LifecycleStage(stage),
        # C12: written by the engagements store alone ($max), never by a company's own writes
        last_activity_at=doc.get("last_activity_at"),
        last_contacted_at=doc.get("last_contacted_at"),
    )


def company_query(scope: Scope, where: CompanyFilter) -> Doc:
    query = scoped(scope)
    if where.domain is not None:
        query["domain"] = where.domain_key
    if where.owner_id is not None:  # one owner, seen only if the scope sees it
        query["owner_id"] = where.owner_id if scope.sees(where.owner_id) else {"$in": []}
    prefix = where.prefix
    if prefix is not None:
        query["search_keys"] = prefix_range(prefix)
    if where.ids is not None:
        query["_id"] = {"$in": sorted(key for key in map(oid, where.ids) if key is not None)}
    return query


class MongoCompanyStore:
    def __init__(self, mongo: Mongo) -> None:
        self.mongo = mongo
        self.companies = mongo[COMPANIES]
        self.contacts = mongo[CONTACTS]

    async def insert(self, company: Company, audit: AuditEntry | None = None) -> None:
        async def write(session: AsyncClientSession | None) -> None:
            await self.companies.insert_one(company_doc(company), session=session)

        await with_entry(self.mongo, audit, write)

    async def get(self, scope: Scope, company_id: str) -> Company | None:
        key = oid(company_id)
        if key is None:
            return None
        doc = await self.companies.find_one({"_id": key, **scoped(scope)})
        return None if doc is None else company_from(doc)

    async def get_many(self, scope: Scope, company_ids: Sequence[str]) -> list[Company]:
        keys = [key for key in map(oid, company_ids) if key is not None]
        if not keys:
            return []
        cursor = self.companies.find({"_id": {"$in": keys}, **scoped(scope)})
        return [company_from(doc) async for doc in cursor]

    async def page(
        self, scope: Scope, where: CompanyFilter, first: int, after: str | None
    ) -> Page[Company]:
        query = company_query(scope, where)
        return await keyset_page(self.companies, query, PAGES, first, after, company_from)

    async def count(self, scope: Scope, where: CompanyFilter) -> int:
        return await self.companies.count_documents(company_query(scope, where))

    async def update_fields(
        self, before: Company, after: Company, audit: AuditEntry | None = None
    ) -> None:
        old, new = company_fields(before), company_fields(after)
        changed = {name: value for name, value in new.items() if old[name] != value}
        if not changed:
            return

        async def write(session: AsyncClientSession | None) -> None:
            await self.companies.update_one(
                {"_id": oid(after.id), "account_id": oid(after.account_id)},
                {"$set": changed},
                session=session,
            )

        await with_entry(self.mongo, audit, write)

    async def delete(
        self, account_id: str, company_id: str, audit: AuditEntry | None = None
    ) -> bool:
        account, key = oid(account_id), oid(company_id)
        if key is None:
            return False

        async def work(session: AsyncClientSession) -> bool:
            gone = await self.companies.delete_one(
                {"_id": key, "account_id": account}, session=session
            )
            if not gone.deleted_count:
                return False
            associated = {"account_id": account, "company_ids": company_id}
            await self.contacts.update_many(
                {**associated, "primary_company_id": company_id},
                {"$set": {"primary_company_id": None}},
                session=session,
            )
            await self.contacts.update_many(
                associated, {"$pull": {"company_ids": company_id}}, session=session
            )
            await drop_from_engagements(self.mongo, account_id, [company_id], session)
            await drop_from_deals(self.mongo, account_id, RecordType.COMPANY, [company_id], session)
            await record(self.mongo, audit, session)
            return True

        return await transact(self.mongo, work)

    async def associate(
        self, account_id: str, pair: ContactCompany, limit: int, audit: AuditEntry | None = None
    ) -> bool:
        account, contact, company = oid(account_id), oid(pair.contact_id), oid(pair.company_id)
        if contact is None or company is None:
            return False

        async def work(session: AsyncClientSession) -> bool:
            found = await self.companies.find_one(
                {"_id": company, "account_id": account}, {"_id": 1}, session=session
            )
            if found is None:
                return False
            this = {"_id": contact, "account_id": account}
            # associated already, or room for one more
            room = {
                "$or": [
                    {"company_ids": pair.company_id},
                    {f"company_ids.{limit - 1}": {"$exists": False}},
                ]
            }
            added = await self.contacts.update_one(
                {**this, **room}, {"$addToSet": {"company_ids": pair.company_id}}, session=session
            )
            if not added.matched_count:
                return False
            # asked for, or the contact's first company: its primary
            primary = this if pair.primary else {**this, "primary_company_id": None}
            await self.contacts.update_one(
                primary, {"$set": {"primary_company_id": pair.company_id}}, session=session
            )
            await record(self.mongo, audit, session)
            return True

        return await transact(self.mongo, work)

    async def dissociate(
        self, account_id: str, pair: ContactCompany, audit: AuditEntry | None = None
    ) -> bool:
        account, contact = oid(account_id), oid(pair.contact_id)
        if contact is None:
            return False
        this = {"_id": contact, "account_id": account, "company_ids": pair.company_id}

        async def work(session: AsyncClientSession) -> bool:
            taken = await self.contacts.update_one(
                this, {"$pull": {"company_ids": pair.company_id}}, session=session
            )
            if not taken.modified_count:
                return False
            await self.contacts.update_one(
                {"_id": contact, "primary_company_id": pair.company_id},
                {"$set": {"primary_company_id": None}},
                session=session,
            )
            await record(self.mongo, audit, session)
            return True

        return await transact(self.mongo, work)
