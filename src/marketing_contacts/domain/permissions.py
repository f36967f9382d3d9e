"""Who may change a status (S5, S7)."""

from __future__ import annotations

from marketing_contacts.domain.errors import ErrorCode, refuse
from marketing_contacts.domain.statuses import MarketingStatus, StatusSourceType
from marketing_contacts.domain.tiers import Edition

WORKFLOW_NON_MARKETING_EDITIONS = frozenset({Edition.PROFESSIONAL, Edition.ENTERPRISE})


def check_status_permission(
    target: MarketingStatus,
    source_type: StatusSourceType,
    *,
    marketing_access: bool,
    edition: Edition,
    field: tuple[str, ...] = ("status",),
) -> None:
    """S5: MARKETING needs marketing access. S7: workflows set NON_MARKETING on PRO/ENT only."""
    if target is MarketingStatus.MARKETING and not marketing_access:
        raise refuse(
            ErrorCode.FORBIDDEN, "setting contacts to marketing needs marketing access", *field
        )
    if (
        source_type is StatusSourceType.WORKFLOW
        and target is MarketingStatus.NON_MARKETING
        and edition not in WORKFLOW_NON_MARKETING_EDITIONS
    ):
        raise refuse(
            ErrorCode.FORBIDDEN,
            "workflows set contacts non-marketing on PROFESSIONAL and ENTERPRISE accounts only",
            *field,
        )
