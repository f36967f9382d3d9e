"""The contract's enums are the domain's enums, registered with Strawberry."""

from __future__ import annotations

import strawberry

from marketing_contacts.domain.alerts import TierAlertKind
from marketing_contacts.domain.bulk import BulkOperationStatus
from marketing_contacts.domain.contacts import LifecycleStage
from marketing_contacts.domain.creation import CreationSource
from marketing_contacts.domain.errors import ErrorCode
from marketing_contacts.domain.statuses import MarketingStatus, StatusSourceType
from marketing_contacts.domain.tiers import Edition, UpgradePolicy
from marketing_contacts.domain.update_dates import CommitmentTerm

MarketingStatusEnum = strawberry.enum(MarketingStatus, name="MarketingStatus")
StatusSourceTypeEnum = strawberry.enum(
    StatusSourceType,
    name="StatusSourceType",
    description="The kind of tool that last set a contact's marketing status.",
)
CreationSourceEnum = strawberry.enum(
    CreationSource,
    name="CreationSource",
    description="How a contact came into the account; decides its default marketing status.",
)
EditionEnum = strawberry.enum(Edition, name="Edition")
CommitmentTermEnum = strawberry.enum(CommitmentTerm, name="CommitmentTerm")
UpgradePolicyEnum = strawberry.enum(UpgradePolicy, name="UpgradePolicy")
LifecycleStageEnum = strawberry.enum(LifecycleStage, name="LifecycleStage")
TierAlertKindEnum = strawberry.enum(TierAlertKind, name="TierAlertKind")
ErrorCodeEnum = strawberry.enum(ErrorCode, name="ErrorCode")
BulkOperationStatusEnum = strawberry.enum(BulkOperationStatus, name="BulkOperationStatus")
