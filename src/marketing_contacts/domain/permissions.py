"""Who may change a status (S5, P2, S7).

`check_marketing_access` is the one check of S5: every path that can make a contact marketing
(a status change, a creation, a bulk operation, a MARKETING creation default) calls it with the
caller's marketing access, which is its user's (P2).
"""

from __future__ import annotations

from marketing_contacts.domain.errors import ErrorCode, refuse
from marketing_contacts.domain.statuses import MarketingStatus, StatusSourceType
from marketing_contacts.domain.tiers import Edition

WORKFLOW_NON_MARKETING_EDITIONS = frozenset({Edition.PROFESSIONAL, Edition.ENTERPRISE})


def check_marketing_access(
    target: MarketingStatus,
    *,
    marketing_access: bool,
    field: tuple[str, ...],
    what: str = "setting contacts to marketing",
) -> None:
    """S5, P2: making contacts MARKETING needs the user's marketing access permission."""
    if target is MarketingStatus.MARKETING and not marketing_access:
        raise refuse(ErrorCode.FORBIDDEN, f"{what} needs marketing access", *field)


def check_status_permission(
    target: MarketingStatus,
    source_type: StatusSourceType,
    *,
    marketing_access: bool,
    edition: Edition,
    field: tuple[str, ...] = ("status",),
    source_field: tuple[str, ...] | None = None,
) -> None:
    """S5: MARKETING needs marketing access. S7: workflows set NON_MARKETING on PRO/ENT only
    (refused at `source_field` where given, else at `field`)."""
    check_marketing_access(target, marketing_access=marketing_access, field=field)
    if (
        source_type is StatusSourceType.WORKFLOW
        and target is MarketingStatus.NON_MARKETING
        and edition not in WORKFLOW_NON_MARKETING_EDITIONS
    ):
        raise refuse(
            ErrorCode.FORBIDDEN,
            "workflows set contacts non-marketing on PROFESSIONAL and ENTERPRISE accounts only",
            *(field if source_field is None else source_field),
        )
