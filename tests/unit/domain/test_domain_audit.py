"""P4: an entry names each record once; a client's request id is kept only when plain."""

from __future__ import annotations

from datetime import UTC, datetime

from marketing_contacts.domain.audit import Actor, AuditEntry, audit_entry, kept_request_id

AT = datetime(2026, 12, 1, tzinfo=UTC)


def test_p4_an_entry_names_each_record_once_in_the_order_given() -> None:
    entry = audit_entry("e", "acc", AT, "createList", ["l", "c", "b", "c"], Actor("u"))
    assert entry == AuditEntry("e", "acc", AT, "createList", ("l", "c", "b"), Actor("u"))


def test_p4_a_clients_request_id_is_kept_when_short_and_plain() -> None:
    assert kept_request_id("abc-123.x:y_z") == "abc-123.x:y_z"
    assert kept_request_id("x" * 64) == "x" * 64
    assert kept_request_id("x" * 65) is None
    assert kept_request_id("bad id") is None
    assert kept_request_id("") is None
    assert kept_request_id(None) is None
