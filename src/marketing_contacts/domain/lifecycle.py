"""Lifecycle stages by creation source (C4) and moves that only go forward (C3).

An account configures the stage each creation source gives new contacts, as it configures
their marketing status (D2); the defaults are C4's. Automatic changes (a deal's, C5) move a
stage forward only, never back: `forward_to`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType

from marketing_contacts.domain.contacts import LifecycleStage, stage_rank
from marketing_contacts.domain.creation import CreationSource, named_once

#: C4: FORM, EXTERNAL_FORM, MANUAL, API and INTEGRATION create leads; the others no stage (an
#: import chooses its own; a subscription form, SUBSCRIBER, names its own when forms come)
_C4_DEFAULTS: Mapping[CreationSource, LifecycleStage] = MappingProxyType(
    {
        CreationSource.FORM: LifecycleStage.LEAD,
        CreationSource.EXTERNAL_FORM: LifecycleStage.LEAD,
        CreationSource.MANUAL: LifecycleStage.LEAD,
        CreationSource.API: LifecycleStage.LEAD,
        CreationSource.INTEGRATION: LifecycleStage.LEAD,
    }
)


@dataclass(frozen=True)
class LifecycleDefaults:
    """C4: an account's default stage per creation source; a source it sets to None gives
    no stage. Unset sources use C4's defaults."""

    overrides: Mapping[CreationSource, LifecycleStage | None] = field(
        default_factory=lambda: MappingProxyType({})
    )

    def default_for(self, source: CreationSource) -> LifecycleStage | None:
        if source in self.overrides:
            return self.overrides[source]
        return _C4_DEFAULTS.get(source)

    def all(self) -> dict[CreationSource, LifecycleStage | None]:
        return {source: self.default_for(source) for source in CreationSource}

    def configured(
        self, changes: Sequence[tuple[CreationSource, LifecycleStage | None]], *field: str
    ) -> LifecycleDefaults:
        """These defaults changed, for contacts created afterwards; a source named twice is
        ambiguous: INVALID."""
        overrides = dict(self.overrides)
        for _, (source, stage) in named_once(changes, *field):
            if stage is _C4_DEFAULTS.get(source):
                overrides.pop(source, None)
            else:
                overrides[source] = stage
        return LifecycleDefaults(MappingProxyType(overrides))


def initial_stage(
    source: CreationSource, requested: LifecycleStage | None, defaults: LifecycleDefaults
) -> LifecycleStage | None:
    """C4: the stage asked for, else the account's default for the source."""
    return requested if requested is not None else defaults.default_for(source)


def forward_to(current: LifecycleStage | None, target: LifecycleStage) -> LifecycleStage | None:
    """C3: the stage an automatic change to `target` leaves, or None when it leaves the
    stage as it is: it moves a stage forward only (from none, or from OTHER, which stands
    outside the order, it sets `target`)."""
    if current is None or current is LifecycleStage.OTHER:
        return target
    return target if stage_rank(target) > stage_rank(current) else None
