"""Default status at creation (D1, D2, D4)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import TypeVar

from marketing_contacts.domain.errors import ErrorCode, refuse
from marketing_contacts.domain.statuses import MarketingStatus, StatusSourceType

T = TypeVar("T")


class CreationSource(StrEnum):
    MANUAL = "MANUAL"
    API = "API"
    IMPORT = "IMPORT"
    MULTI_OBJECT_IMPORT = "MULTI_OBJECT_IMPORT"
    FORM = "FORM"
    EXTERNAL_FORM = "EXTERNAL_FORM"
    CHATFLOW = "CHATFLOW"
    INTEGRATION = "INTEGRATION"
    MOBILE_APP = "MOBILE_APP"
    SALES_EMAIL = "SALES_EMAIL"
    MEETINGS_LINK = "MEETINGS_LINK"
    ASSOCIATED_RECORD = "ASSOCIATED_RECORD"


#: D1: these sources always create non-marketing contacts.
ALWAYS_NON_MARKETING = frozenset(
    {
        CreationSource.MULTI_OBJECT_IMPORT,
        CreationSource.MOBILE_APP,
        CreationSource.SALES_EMAIL,
        CreationSource.MEETINGS_LINK,
        CreationSource.ASSOCIATED_RECORD,
    }
)

#: D2 defaults for the configurable sources.
_D2_DEFAULTS: Mapping[CreationSource, MarketingStatus] = MappingProxyType(
    {
        CreationSource.FORM: MarketingStatus.MARKETING,
        CreationSource.EXTERNAL_FORM: MarketingStatus.MARKETING,
        CreationSource.IMPORT: MarketingStatus.NON_MARKETING,
        CreationSource.CHATFLOW: MarketingStatus.NON_MARKETING,
        CreationSource.INTEGRATION: MarketingStatus.NON_MARKETING,
        CreationSource.MANUAL: MarketingStatus.NON_MARKETING,
        CreationSource.API: MarketingStatus.NON_MARKETING,
    }
)

#: D4: the source type a contact's status gets when the creating tool chose it explicitly.
_CHOSEN_BY: Mapping[CreationSource, StatusSourceType] = MappingProxyType(
    {
        CreationSource.IMPORT: StatusSourceType.IMPORT,
        CreationSource.FORM: StatusSourceType.FORM,
        CreationSource.EXTERNAL_FORM: StatusSourceType.FORM,
        CreationSource.CHATFLOW: StatusSourceType.CHATFLOW,
        CreationSource.INTEGRATION: StatusSourceType.INTEGRATION,
    }
)


def named_once(
    changes: Sequence[tuple[CreationSource, T]], *field: str
) -> Iterator[tuple[int, tuple[CreationSource, T]]]:
    """Settings per creation source, with their places, in order; a source named twice is
    ambiguous: INVALID at its second place, when the walk reaches it."""
    seen: set[CreationSource] = set()
    for index, (source, value) in enumerate(changes):
        if source in seen:
            raise refuse(ErrorCode.INVALID, f"{source.value} is named twice", *field, str(index))
        seen.add(source)
        yield index, (source, value)


@dataclass(frozen=True)
class CreationDefaults:
    """D2: an account's default status per configurable source (unset ones use the defaults)."""

    overrides: Mapping[CreationSource, MarketingStatus] = field(
        default_factory=lambda: MappingProxyType({})
    )

    def default_for(self, source: CreationSource) -> MarketingStatus:
        if source in ALWAYS_NON_MARKETING:
            return MarketingStatus.NON_MARKETING
        return self.overrides.get(source, _D2_DEFAULTS[source])

    def all(self) -> dict[CreationSource, MarketingStatus]:
        """The default of every source, in the enum's order (D1's included)."""
        return {source: self.default_for(source) for source in CreationSource}

    def configured(
        self, changes: Sequence[tuple[CreationSource, MarketingStatus]], *field: str
    ) -> CreationDefaults:
        """D2: these defaults changed (each change affects contacts created afterwards only);
        D1's sources stay non-marketing, a source named twice is ambiguous: INVALID."""
        overrides = dict(self.overrides)
        for index, (source, status) in named_once(changes, *field):
            if source in ALWAYS_NON_MARKETING:
                if status is MarketingStatus.MARKETING:
                    raise refuse(
                        ErrorCode.INVALID,
                        f"contacts created via {source.value} are always non-marketing",
                        *field,
                        str(index),
                        "marketing_status",
                    )
                continue
            if status is _D2_DEFAULTS[source]:
                overrides.pop(source, None)
            else:
                overrides[source] = status
        return CreationDefaults(MappingProxyType(overrides))


def initial_status(
    source: CreationSource,
    requested: MarketingStatus | None,
    defaults: CreationDefaults,
) -> tuple[MarketingStatus, StatusSourceType]:
    """D1/D2/D4: the status a new contact starts in, and the source type recorded for it."""
    if requested is None:
        return defaults.default_for(source), StatusSourceType.CREATION_DEFAULT
    if source in ALWAYS_NON_MARKETING and requested is MarketingStatus.MARKETING:
        raise refuse(
            ErrorCode.INVALID,
            f"contacts created via {source.value} are always non-marketing",
            "marketing_status",
        )
    return requested, _CHOSEN_BY.get(source, StatusSourceType.USER)
