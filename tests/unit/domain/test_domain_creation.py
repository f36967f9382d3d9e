"""Default status at creation (D1, D2, D4 in docs/rules.md).

D3 (a form turning an existing submitter into MARKETING) is not held by the domain package.
"""

from __future__ import annotations

from types import MappingProxyType

import pytest

from marketing_contacts.domain.contacts import email_key, normalize_email
from marketing_contacts.domain.creation import (
    CreationDefaults,
    CreationSource,
    initial_status,
)
from marketing_contacts.domain.errors import DomainError, ErrorCode
from marketing_contacts.domain.statuses import MarketingStatus, StatusSourceType

MARKETING = MarketingStatus.MARKETING
NON_MARKETING = MarketingStatus.NON_MARKETING

D1_SOURCES = [
    CreationSource.MULTI_OBJECT_IMPORT,
    CreationSource.MOBILE_APP,
    CreationSource.SALES_EMAIL,
    CreationSource.MEETINGS_LINK,
    CreationSource.ASSOCIATED_RECORD,
]


def all_marketing() -> CreationDefaults:
    """An account that configured every source it could to MARKETING."""
    return CreationDefaults(MappingProxyType(dict.fromkeys(CreationSource, MARKETING)))


# ---------------------------------------------------------------- D1


@pytest.mark.parametrize("source", D1_SOURCES)
def test_d1_always_non_marketing_by_default_even_when_configured_otherwise(
    source: CreationSource,
) -> None:
    assert initial_status(source, None, CreationDefaults()) == (
        NON_MARKETING,
        StatusSourceType.CREATION_DEFAULT,
    )
    assert initial_status(source, None, all_marketing())[0] is NON_MARKETING


@pytest.mark.parametrize("source", D1_SOURCES)
def test_d1_asking_marketing_from_an_always_non_marketing_source_is_invalid(
    source: CreationSource,
) -> None:
    with pytest.raises(DomainError) as raised:
        initial_status(source, MARKETING, CreationDefaults())
    assert [(e.code, e.field) for e in raised.value.errors] == [
        (ErrorCode.INVALID, ("marketing_status",))
    ]


@pytest.mark.parametrize("source", D1_SOURCES)
def test_d1_asking_non_marketing_from_those_sources_is_fine(source: CreationSource) -> None:
    assert initial_status(source, NON_MARKETING, CreationDefaults())[0] is NON_MARKETING


# ---------------------------------------------------------------- D2


@pytest.mark.parametrize(
    ("source", "default"),
    [
        (CreationSource.FORM, MARKETING),
        (CreationSource.EXTERNAL_FORM, MARKETING),
        (CreationSource.IMPORT, NON_MARKETING),
        (CreationSource.CHATFLOW, NON_MARKETING),
        (CreationSource.INTEGRATION, NON_MARKETING),
        (CreationSource.MANUAL, NON_MARKETING),
        (CreationSource.API, NON_MARKETING),
    ],
)
def test_d2_defaults_per_source(source: CreationSource, default: MarketingStatus) -> None:
    assert CreationDefaults().default_for(source) is default
    assert initial_status(source, None, CreationDefaults()) == (
        default,
        StatusSourceType.CREATION_DEFAULT,
    )


def test_d2_account_override_changes_only_its_source() -> None:
    defaults = CreationDefaults(
        MappingProxyType({CreationSource.CHATFLOW: MARKETING, CreationSource.FORM: NON_MARKETING})
    )
    assert defaults.default_for(CreationSource.CHATFLOW) is MARKETING
    assert defaults.default_for(CreationSource.FORM) is NON_MARKETING
    # untouched sources keep the D2 defaults
    assert defaults.default_for(CreationSource.EXTERNAL_FORM) is MARKETING
    assert defaults.default_for(CreationSource.IMPORT) is NON_MARKETING


@pytest.mark.parametrize("source", [CreationSource.MANUAL, CreationSource.API])
def test_d2_manual_and_api_marketing_when_the_caller_asks(source: CreationSource) -> None:
    assert initial_status(source, MARKETING, CreationDefaults())[0] is MARKETING
    assert initial_status(source, NON_MARKETING, all_marketing())[0] is NON_MARKETING


def test_d2_an_import_may_ask_for_all_marketing() -> None:
    assert initial_status(CreationSource.IMPORT, MARKETING, CreationDefaults()) == (
        MARKETING,
        StatusSourceType.IMPORT,
    )


# ---------------------------------------------------------------- D4 (source type)


@pytest.mark.parametrize(
    ("source", "source_type"),
    [
        (CreationSource.IMPORT, StatusSourceType.IMPORT),
        (CreationSource.FORM, StatusSourceType.FORM),
        (CreationSource.EXTERNAL_FORM, StatusSourceType.FORM),
        (CreationSource.CHATFLOW, StatusSourceType.CHATFLOW),
        (CreationSource.INTEGRATION, StatusSourceType.INTEGRATION),
        (CreationSource.MANUAL, StatusSourceType.USER),
        (CreationSource.API, StatusSourceType.USER),
    ],
)
def test_d4_source_type_is_the_tool_that_chose_marketing(
    source: CreationSource, source_type: StatusSourceType
) -> None:
    assert initial_status(source, MARKETING, CreationDefaults()) == (MARKETING, source_type)


@pytest.mark.parametrize("source", [CreationSource.FORM, CreationSource.EXTERNAL_FORM])
def test_d4_marketing_by_default_records_creation_default(source: CreationSource) -> None:
    assert initial_status(source, None, CreationDefaults()) == (
        MARKETING,
        StatusSourceType.CREATION_DEFAULT,
    )


# ---------------------------------------------------------------- D2: configuring the defaults


def test_d2_configured_defaults_apply_to_contacts_created_afterwards() -> None:
    defaults = CreationDefaults().configured(
        [(CreationSource.FORM, NON_MARKETING), (CreationSource.IMPORT, MARKETING)]
    )
    assert initial_status(CreationSource.FORM, None, defaults) == (
        NON_MARKETING,
        StatusSourceType.CREATION_DEFAULT,
    )
    assert initial_status(CreationSource.IMPORT, None, defaults) == (
        MARKETING,
        StatusSourceType.CREATION_DEFAULT,
    )
    every = defaults.all()
    assert list(every) == list(CreationSource)
    assert every[CreationSource.EXTERNAL_FORM] is MARKETING  # untouched: D2's default
    assert all(every[source] is NON_MARKETING for source in D1_SOURCES)
    # back to the default: nothing is stored for it
    again = defaults.configured([(CreationSource.FORM, MARKETING)])
    assert dict(again.overrides) == {CreationSource.IMPORT: MARKETING}


@pytest.mark.parametrize("source", D1_SOURCES)
def test_d1_sources_cannot_be_configured_marketing(source: CreationSource) -> None:
    with pytest.raises(DomainError) as refused:
        CreationDefaults().configured(
            [(CreationSource.API, MARKETING), (source, MARKETING)], "creation_defaults"
        )
    assert [(e.code, e.field) for e in refused.value.errors] == [
        (ErrorCode.INVALID, ("creation_defaults", "1", "marketing_status"))
    ]
    unchanged = CreationDefaults().configured([(source, NON_MARKETING)])
    assert unchanged == CreationDefaults()


def test_d2_a_source_named_twice_is_invalid() -> None:
    with pytest.raises(DomainError) as refused:
        CreationDefaults().configured(
            [(CreationSource.FORM, MARKETING), (CreationSource.FORM, NON_MARKETING)],
            "creation_defaults",
        )
    assert [(e.code, e.field) for e in refused.value.errors] == [
        (ErrorCode.INVALID, ("creation_defaults", "1"))
    ]


# ---------------------------------------------------------------- email input (C8)


@pytest.mark.parametrize(
    "raw",
    [
        "not-an-email",
        "ada@",
        "@example.com",
        "ada@example",
        "ada @example.com",
        "a@b@c.com",
        "ada@example.",
        f"{'a' * 245}@example.com",
        "\x00@example.com",  # control characters
        "ada@example.com\x00",
        "ada@example..com",  # an empty label
        "ada@-example.com",  # a label starting with a hyphen
        "ada,bob@example.com",  # a list, not an address
        "<script>@example.com",
        ".ada@example.com",  # a local part neither starts nor ends with a dot, nor doubles one
        "ada.@example.com",
        "ada..lovelace@example.com",
        f"{'a' * 65}@example.com",  # a local part has at most 64 characters
        "ada\u200b@example.com",  # a zero-width space, invisible in the address
        "ada@exam\u200bple.com",
        "ada@example.test",  # special-use domains: no one is marketed to there
        "ada@printer.local",
        "ada@localhost",
        "ada@[127.0.0.1]",  # a domain literal
        '"ada lovelace"@example.com',  # a quoted local part
        "Ada <ada@example.com>",  # a display name
        "ada@example.123",  # a top-level domain is not a number
    ],
)
def test_c8_invalid_email_is_invalid_on_its_field(raw: str) -> None:
    with pytest.raises(DomainError) as raised:
        normalize_email(raw, "email")
    assert [(e.code, e.field) for e in raised.value.errors] == [(ErrorCode.INVALID, ("email",))]


@pytest.mark.parametrize("raw", [f"{'a' * 245}@example.com", "a" * 1_000_000, "a,b" * 80])
def test_c8_the_message_of_an_invalid_email_stays_short(raw: str) -> None:
    with pytest.raises(DomainError) as raised:
        normalize_email(raw, "email")
    assert len(str(raised.value)) < 200


@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        ("o'brien+news@sub.example.co.uk", "o'brien+news@sub.example.co.uk"),
        ("ünï@exämple.com", "ünï@exämple.com"),
        (f"{'a' * 64}@example.com", f"{'a' * 64}@example.com"),
        ("Ada.Lovelace@Example.COM", "Ada.Lovelace@example.com"),  # the local part keeps its case
        ("ada@example.xn--p1ai", "ada@example.рф"),  # the domain in its Unicode form
        ("ada@EXÄMPLE.com", "ada@exämple.com"),
        ("u\u0308ni\u0308@exa\u0308mple.com", "ünï@exämple.com"),  # NFC
    ],
)
def test_c8_valid_addresses_are_stored_in_normal_form(raw: str, stored: str) -> None:
    assert normalize_email(raw, "email") == stored


def test_c8_one_address_in_two_unicode_forms_is_one_key() -> None:
    composed, decomposed = "ünï@exämple.com", "u\u0308ni\u0308@exa\u0308mple.com"
    assert composed != decomposed
    assert email_key(normalize_email(decomposed, "email")) == email_key(composed)


def test_c8_email_trimmed_blank_is_none_and_unique_case_insensitively() -> None:
    assert normalize_email("  Ada@Example.com ", "email") == "Ada@example.com"
    assert normalize_email("   ", "email") is None
    assert normalize_email(None, "email") is None
    assert email_key("Ada@Example.COM") == email_key("ada@example.com")
