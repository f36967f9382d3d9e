"""The forms and form_submissions collections (F1).

A form is read by (account_id, _id); its submissions newest first by (account_id, form_id,
_id descending). A submission is inserted by the ChangeWriter in the transaction of its batch
(`write_submission`), with its contact's creation or status change and the counts, and the
form's submission_count moves by $inc in that transaction, so the count is exact.
"""

from __future__ import annotations

from bson import ObjectId
from pymongo import ASCENDING, DESCENDING, IndexModel
from pymongo.asynchronous.client_session import AsyncClientSession

from marketing_contacts.domain.audit import AuditEntry
from marketing_contacts.domain.contacts import LifecycleStage
from marketing_contacts.domain.forms import Form, FormKind, FormSubmission, FormValue
from marketing_contacts.services.paging import Page
from marketing_contacts.services.ports.changes import StaleWrite
from marketing_contacts.storage.audit import record
from marketing_contacts.storage.database import FORM_SUBMISSIONS, FORMS, Doc, Mongo
from marketing_contacts.storage.ids import oid
from marketing_contacts.storage.paging import Keyset, keyset_page
from marketing_contacts.storage.transactions import transact

#: newest first
SUBMISSIONS = Keyset("form_submission", descending=True)

INDEXES = {
    FORMS: [IndexModel([("account_id", ASCENDING), ("_id", ASCENDING)])],
    FORM_SUBMISSIONS: [
        IndexModel([("account_id", ASCENDING), ("form_id", ASCENDING), ("_id", DESCENDING)])
    ],
}


def form_settings(form: Form) -> Doc:
    """Every field of a form that updateForm may change."""
    return {
        "name": form.name,
        "set_contacts_as_marketing": form.set_contacts_as_marketing,
        "create_without_email": form.create_without_email,
        "lifecycle_stage": form.lifecycle_stage.value,
        "updated_at": form.updated_at,
    }


def form_doc(form: Form) -> Doc:
    return {
        "_id": ObjectId(form.id),
        "account_id": ObjectId(form.account_id),
        "kind": form.kind.value,
        "created_at": form.created_at,
        "submission_count": form.submission_count,
        **form_settings(form),
    }


def form_from(doc: Doc) -> Form:
    return Form(
        id=str(doc["_id"]),
        account_id=str(doc["account_id"]),
        name=doc["name"],
        kind=FormKind(doc["kind"]),
        created_at=doc["created_at"],
        updated_at=doc["updated_at"],
        set_contacts_as_marketing=doc["set_contacts_as_marketing"],
        create_without_email=doc["create_without_email"],
        lifecycle_stage=LifecycleStage(doc["lifecycle_stage"]),
        submission_count=doc["submission_count"],
    )


def submission_doc(submission: FormSubmission) -> Doc:
    return {
        "_id": ObjectId(submission.id),
        "account_id": ObjectId(submission.account_id),
        "form_id": ObjectId(submission.form_id),
        "at": submission.at,
        "values": [{"name": v.name, "value": v.value} for v in submission.values],
        "contact_id": submission.contact_id,
        "created_contact": submission.created_contact,
        "blocked_by_tier": submission.blocked_by_tier,
    }


def submission_from(doc: Doc) -> FormSubmission:
    return FormSubmission(
        id=str(doc["_id"]),
        account_id=str(doc["account_id"]),
        form_id=str(doc["form_id"]),
        at=doc["at"],
        values=tuple(FormValue(v["name"], v["value"]) for v in doc["values"]),
        contact_id=doc["contact_id"],
        created_contact=doc["created_contact"],
        blocked_by_tier=doc["blocked_by_tier"],
    )


async def write_submission(
    mongo: Mongo, submission: FormSubmission, session: AsyncClientSession
) -> None:
    """The submission stored and its form's count moved by one, in the batch's transaction;
    StaleWrite when the form is gone."""
    counted = await mongo[FORMS].update_one(
        {"_id": oid(submission.form_id), "account_id": oid(submission.account_id)},
        {"$inc": {"submission_count": 1}},
        session=session,
    )
    if counted.matched_count != 1:
        raise StaleWrite(f"form {submission.form_id} went")
    await mongo[FORM_SUBMISSIONS].insert_one(submission_doc(submission), session=session)


class MongoFormStore:
    def __init__(self, mongo: Mongo) -> None:
        self.mongo = mongo
        self.forms = mongo[FORMS]
        self.submissions_of = mongo[FORM_SUBMISSIONS]

    async def insert(self, form: Form, audit: AuditEntry | None = None) -> None:
        async def work(session: AsyncClientSession) -> None:
            await self.forms.insert_one(form_doc(form), session=session)
            await record(self.mongo, audit, session)

        await transact(self.mongo, work)

    async def get(self, account_id: str, form_id: str) -> Form | None:
        key = oid(form_id)
        if key is None:
            return None
        doc = await self.forms.find_one({"account_id": oid(account_id), "_id": key})
        return None if doc is None else form_from(doc)

    async def all(self, account_id: str) -> list[Form]:
        found = self.forms.find({"account_id": oid(account_id)}).sort("_id", ASCENDING)
        return [form_from(doc) for doc in await found.to_list()]

    async def count(self, account_id: str) -> int:
        return await self.forms.count_documents({"account_id": oid(account_id)})

    async def update_settings(
        self, before: Form, after: Form, audit: AuditEntry | None = None
    ) -> bool:
        old, new = form_settings(before), form_settings(after)
        changed = {name: value for name, value in new.items() if old[name] != value}
        if not changed:
            return True

        async def work(session: AsyncClientSession) -> bool:
            written = await self.forms.update_one(
                {"account_id": oid(after.account_id), "_id": oid(after.id)},
                {"$set": changed},
                session=session,
            )
            if written.matched_count != 1:
                return False
            await record(self.mongo, audit, session)
            return True

        return await transact(self.mongo, work)

    async def submissions(
        self, account_id: str, form_id: str, first: int, after: str | None
    ) -> Page[FormSubmission]:
        query = {"account_id": oid(account_id), "form_id": oid(form_id)}
        return await keyset_page(
            self.submissions_of, query, SUBMISSIONS, first, after, submission_from
        )
