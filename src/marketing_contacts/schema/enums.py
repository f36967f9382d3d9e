"""The API's enums are the domain's enums, registered with Strawberry with what each value means.

The domain names its values; what a client reads about them is said here, once per value, and
registering an enum without a word for each of its values fails at import.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from enum import Enum
from typing import TypeVar

import strawberry
from strawberry.types.enum import has_enum_definition

from marketing_contacts.domain.alerts import TierAlertKind
from marketing_contacts.domain.associations import RecordType
from marketing_contacts.domain.bulk import BulkOperationStatus
from marketing_contacts.domain.channels import Channel
from marketing_contacts.domain.contacts import LifecycleStage
from marketing_contacts.domain.creation import CreationSource
from marketing_contacts.domain.deals import DealStage
from marketing_contacts.domain.email_events import EmailEventType
from marketing_contacts.domain.engagements import EngagementType
from marketing_contacts.domain.errors import ErrorCode
from marketing_contacts.domain.forms import FormKind
from marketing_contacts.domain.statuses import MarketingStatus, StatusSourceType
from marketing_contacts.domain.tiers import Edition, UpgradePolicy
from marketing_contacts.domain.update_dates import CommitmentTerm
from marketing_contacts.domain.users import RecordVisibility, Role

E = TypeVar("E", bound=Enum)


def described(enum: type[E], description: str, values: Mapping[E, str]) -> type[E]:
    """`enum` as a GraphQL enum of its own name, each value with its description."""
    missing = [member.name for member in enum if member not in values]
    if missing:
        raise ValueError(f"{enum.__name__}: no description for {', '.join(missing)}")
    registered = strawberry.enum(enum, name=enum.__name__, description=description)
    assert has_enum_definition(registered)
    definition = registered.__strawberry_definition__
    definition.values = [
        replace(value, description=values[enum[value.name]]) for value in definition.values
    ]
    return enum


described(
    MarketingStatus,
    "Whether a contact counts toward the account's tier of marketing contacts.",
    {
        MarketingStatus.MARKETING: "The contact may get marketing email and ads, and counts "
        "toward the tier (also while it waits to become non-marketing at the next update date).",
        MarketingStatus.NON_MARKETING: "The contact gets only other email (sales, "
        "transactional) and does not count toward the tier.",
    },
)

described(
    StatusSourceType,
    "The kind of tool that last set a contact's marketing status.",
    {
        StatusSourceType.USER: "A user, by hand or through the API (the source id is the "
        "id of the user the token acts as).",
        StatusSourceType.BULK_OPERATION: "A bulk status change (the source id is the operation).",
        StatusSourceType.IMPORT: "An import of contacts.",
        StatusSourceType.FORM: "A form submission.",
        StatusSourceType.CHATFLOW: "A conversation started through a chatflow.",
        StatusSourceType.INTEGRATION: "A connected app.",
        StatusSourceType.WORKFLOW: "A workflow action; setting NON_MARKETING this way needs a "
        "PROFESSIONAL or ENTERPRISE account.",
        StatusSourceType.CREATION_DEFAULT: "The default status of the contact's creation "
        "source, when it was created; set by the service only.",
        StatusSourceType.UPDATE_DATE: "An update date that made a pending contact non-marketing "
        "(the source id is the date); set by the service only.",
        StatusSourceType.MERGE: "A merge of two contacts; set by the service only.",
        StatusSourceType.LEGACY: "K1: the account ran without marketing contacts, so the "
        "contact was created MARKETING (every contact counted; no source id), or the switch "
        "of enableMarketingContacts set it NON_MARKETING (the source id is its operation); "
        "set by the service only.",
    },
)

described(
    CreationSource,
    "How a contact came into the account; decides its default marketing status.",
    {
        CreationSource.MANUAL: "Created by a user in the app; non-marketing unless asked for.",
        CreationSource.API: "Created through the API; non-marketing unless asked for.",
        CreationSource.IMPORT: "Created by an import; non-marketing by default (an import may "
        "ask for marketing).",
        CreationSource.MULTI_OBJECT_IMPORT: "Created by an import of several kinds of record; "
        "always non-marketing.",
        CreationSource.FORM: "Created by a submission of one of the account's forms; marketing "
        "by default.",
        CreationSource.EXTERNAL_FORM: "Created by a submission of a form outside the service; "
        "marketing by default.",
        CreationSource.CHATFLOW: "Created by a chatflow conversation; non-marketing by default.",
        CreationSource.INTEGRATION: "Created by a connected app; non-marketing by default.",
        CreationSource.MOBILE_APP: "Created in the mobile app; always non-marketing.",
        CreationSource.SALES_EMAIL: "Created by a logged one-to-one email, the team inbox or an "
        "email extension; always non-marketing.",
        CreationSource.MEETINGS_LINK: "Created by a meeting booked through a meetings link; "
        "always non-marketing.",
        CreationSource.ASSOCIATED_RECORD: "Created along with a record it is associated with; "
        "always non-marketing.",
    },
)

described(
    Edition,
    "The product edition of an account: it sets the ladder of tiers the account moves up.",
    {
        Edition.STARTER: "Tiers start at 1,000 marketing contacts and grow by 1,000.",
        Edition.PROFESSIONAL: "Tiers start at 2,000 marketing contacts and grow by 5,000.",
        Edition.ENTERPRISE: "Tiers start at 10,000 marketing contacts and grow by 10,000.",
    },
)

described(
    CommitmentTerm,
    "How an account is billed; it decides the update dates.",
    {
        CommitmentTerm.MONTHLY: "Billed monthly: the update date is the renewal day of every "
        "month (the month's last day where it has no such day).",
        CommitmentTerm.ANNUAL: "Billed yearly: the update date is the 1st of every month.",
    },
)

described(
    UpgradePolicy,
    "What happens when a change would take the marketing contacts past the tier.",
    {
        UpgradePolicy.AUTO: "Exceeding the tier upgrades it at once to the smallest tier that "
        "holds the new count.",
        UpgradePolicy.BLOCK: "A change that would exceed the tier is refused with "
        "TIER_LIMIT_REACHED and an UPGRADE_BLOCKED alert; the tier stays.",
    },
)

described(
    LifecycleStage,
    "Where a contact stands in the sales cycle. The stages run in the order below (OTHER "
    "stands outside it); a stage moves backwards only by being cleared first.",
    {
        LifecycleStage.SUBSCRIBER: "Signed up for content, such as a newsletter.",
        LifecycleStage.LEAD: "Showed interest, for instance by filling in a form.",
        LifecycleStage.MARKETING_QUALIFIED_LEAD: "Judged ready for sales by marketing.",
        LifecycleStage.SALES_QUALIFIED_LEAD: "Accepted by sales as a potential customer.",
        LifecycleStage.OPPORTUNITY: "Associated with an open deal.",
        LifecycleStage.CUSTOMER: "Associated with a deal that was won.",
        LifecycleStage.EVANGELIST: "A customer who recommends the account's business.",
        LifecycleStage.OTHER: "None of the stages above.",
    },
)

described(
    BulkOperationStatus,
    "Where a bulk operation is.",
    {
        BulkOperationStatus.QUEUED: "Waiting for a worker.",
        BulkOperationStatus.RUNNING: "A worker is applying it, chunk by chunk.",
        BulkOperationStatus.COMPLETED: "Every matched contact was processed.",
        BulkOperationStatus.FAILED: "It stopped on an error; see failureReason. What it "
        "applied stays applied.",
        BulkOperationStatus.CANCELLED: "Cancelled before it ended; what it applied stays applied.",
    },
)

described(
    TierAlertKind,
    "What a tier alert is about.",
    {
        TierAlertKind.THRESHOLD_REACHED: "The marketing contacts reached one of the account's "
        "alert thresholds (a percent of the tier); once per threshold, tier and update period.",
        TierAlertKind.TIER_EXCEEDED: "The marketing contacts went past the tier limit.",
        TierAlertKind.TIER_UPGRADED: "The tier was upgraded; see the account's tierChanges.",
        TierAlertKind.UPGRADE_BLOCKED: "A change would have exceeded the tier and the upgrade "
        "policy BLOCK refused it; once per update period.",
    },
)

described(
    ErrorCode,
    "What kind of error a userError or a GraphQL error reports.",
    {
        ErrorCode.INVALID: "The input is malformed, out of range or not allowed as given.",
        ErrorCode.NOT_FOUND: "No record of the caller's account has this id.",
        ErrorCode.DUPLICATE: "Another contact or user of the account has this email address, "
        "or another team this name.",
        ErrorCode.FORBIDDEN: "The caller may not do this: it is not authenticated, its role "
        "does not allow it (ADMIN only; READ_ONLY changes nothing), or it lacks a permission "
        "(marketing access, to make contacts marketing); in production, an introspection "
        "query (__schema, __type).",
        ErrorCode.TIER_LIMIT_REACHED: "The change would exceed the tier and the account's "
        "upgrade policy is BLOCK.",
        ErrorCode.TOO_MANY: "More than the service takes at once: more items than one request "
        "may hold (send them in parts), more alerts than a subscription could hold, more "
        "background operations queued or running than an account may have (P5), or more "
        "operations at once than one WebSocket runs, or more companies than one contact may "
        "be associated with (1,000).",
        ErrorCode.CONFLICT: "The idempotency key was used with another input, or the change "
        "would leave the account without an active ADMIN, or the user is deactivated.",
        ErrorCode.CONFIRMATION_MISMATCH: "confirmCount is not the number of contacts the "
        "selection matches.",
        ErrorCode.RATE_LIMITED: "Too many requests for the token (P5); retry after the time "
        "the error (retryAfter, in seconds) or the Retry-After header gives.",
    },
)

described(
    Role,
    "What a user may do (P1).",
    {
        Role.ADMIN: "Everything, including users, teams, tokens, account settings and "
        "switching marketing contacts on.",
        Role.MEMBER: "Reads and writes records within the user's visibility.",
        Role.READ_ONLY: "Reads within the user's visibility; every mutation is FORBIDDEN.",
    },
)

described(
    RecordVisibility,
    "Which records a user sees (C9, P3).",
    {
        RecordVisibility.ALL: "Every record of the account.",
        RecordVisibility.TEAM: "Records owned by the user or by another member of the user's team.",
        RecordVisibility.OWNED: "Records owned by the user.",
    },
)

described(
    RecordType,
    "A kind of CRM record that associations connect.",
    {
        RecordType.CONTACT: "A contact.",
        RecordType.COMPANY: "A company (C2).",
        RecordType.DEAL: "A deal (C5).",
    },
)

described(
    DealStage,
    "The default pipeline's stages, in their order (C5).",
    {
        DealStage.APPOINTMENT_SCHEDULED: "A first meeting is booked.",
        DealStage.QUALIFIED_TO_BUY: "The buyer has the need and the budget.",
        DealStage.PRESENTATION_SCHEDULED: "A presentation is booked.",
        DealStage.DECISION_MAKER_BOUGHT_IN: "The one who decides is for it.",
        DealStage.CONTRACT_SENT: "The contract is with the buyer.",
        DealStage.CLOSED_WON: "Won: every associated contact and company becomes a CUSTOMER.",
        DealStage.CLOSED_LOST: "Lost: its records stay where they are (a customer of another "
        "deal stays a customer).",
    },
)

described(
    EmailEventType,
    "What happened to email sent to an address (C7).",
    {
        EmailEventType.SENT: "An email was sent to the address.",
        EmailEventType.DELIVERED: "The receiving server accepted it.",
        EmailEventType.OPENED: "It was opened.",
        EmailEventType.CLICKED: "A link in it was clicked.",
        EmailEventType.HARD_BOUNCED: "The address does not take email; the address's contact "
        "is marked emailHardBounced (S6).",
        EmailEventType.UNSUBSCRIBED: "The recipient unsubscribed from all email; the address's "
        "contact is marked unsubscribedFromAll (S6), its marketing status unchanged.",
    },
)

described(
    EngagementType,
    "What kind of engagement was logged (C6).",
    {
        EngagementType.TASK: "Something to do; moves lastActivityAt only.",
        EngagementType.CALL: "A call; moves lastActivityAt and lastContactedAt.",
        EngagementType.NOTE: "A note; moves lastActivityAt only.",
        EngagementType.EMAIL: "An email, one to one; moves lastActivityAt and lastContactedAt.",
        EngagementType.MEETING: "A meeting; moves lastActivityAt and lastContactedAt.",
    },
)

described(
    Channel,
    "Where a contact may be reached (H1).",
    {
        Channel.MARKETING_EMAIL: "Marketing email: marketing contacts only, with an address, "
        "neither unsubscribed from all email nor hard-bounced (H1, H2).",
        Channel.ADS: "Ads audiences: marketing contacts only (H1).",
        Channel.WORKFLOW_MARKETING_ACTION: "The marketing actions of workflows: marketing "
        "contacts only (H1).",
        Channel.SALES_EMAIL: "One-to-one sales email: any contact with an address.",
        Channel.SEQUENCE: "Sequences of sales email: any contact with an address.",
        Channel.CONVERSATION: "Conversation transcripts, sent by email: any contact with an "
        "address.",
        Channel.TRANSACTIONAL_EMAIL: "Transactional email: any contact with an address.",
        Channel.REGISTRATION_EMAIL: "Registration email: any contact with an address.",
        Channel.TICKET_EMAIL: "Ticket email: any contact with an address.",
        Channel.FEEDBACK_SURVEY: "Feedback surveys, sent by email: any contact with an address.",
    },
)

described(
    FormKind,
    "Where a form is (F1).",
    {
        FormKind.NATIVE: "A form of this service; its contacts are created via FORM.",
        FormKind.EXTERNAL: "A form on another site whose submissions are collected (non-HubSpot "
        "forms in the reference); its contacts are created via EXTERNAL_FORM.",
    },
)
