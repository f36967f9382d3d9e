"""Every connection pages the same way on real servers: pageInfo says where a page lies
(hasNextPage, hasPreviousPage, startCursor, endCursor) and totalCount how many items all pages
hold together."""

from __future__ import annotations

from typing import Any

from marketing_contacts.runtime import Runtime
from tests.support.graphql import Client, open_client

PAGE_INFO = "totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor }"
PAGE = PAGE_INFO + " edges { cursor node { id } }"
HISTORY_PAGE = PAGE_INFO + " edges { cursor node { at toStatus pending } }"
CREATE_LIST = "mutation($n: String!) { createList(name: $n) { list { id } } }"
CREATE = """mutation($email: String, $status: MarketingStatus) {
  createContact(input: {email: $email, marketingStatus: $status}) { contact { id } } }"""
SET_STATUS = """mutation($ids: [ID!]!, $status: MarketingStatus!) {
  setMarketingStatus(input: {contactIds: $ids, status: $status}) { userErrors { code } } }"""

Connection = dict[str, Any]


async def every_page(
    client: Client, document: str, path: tuple[str, ...], first: int, **variables: Any
) -> list[Connection]:
    """The connection at `path` of the document's data, page by page (`$first`, `$after`) from
    the start until hasNextPage is false, each page checked against what its pageInfo says."""
    pages: list[Connection] = []
    after: str | None = None
    while True:
        page: Any = await client.execute(document, first=first, after=after, **variables)
        for key in path:
            page = page[key]
        info, edges = page["pageInfo"], page["edges"]
        assert 1 <= len(edges) <= first
        assert info["startCursor"] == edges[0]["cursor"]
        assert info["endCursor"] == edges[-1]["cursor"]
        assert info["hasPreviousPage"] is (after is not None)
        pages.append(page)
        if not info["hasNextPage"]:
            return pages
        after = info["endCursor"]


def items(pages: list[Connection]) -> list[Any]:
    return [edge["node"] for page in pages for edge in page["edges"]]


def assert_counted(pages: list[Connection], expected: int) -> None:
    """Every page counts the whole connection, and the pages hold exactly that many items."""
    assert [page["totalCount"] for page in pages] == [expected] * len(pages)
    assert len(items(pages)) == expected


async def create(client: Client, email: str | None, status: str = "NON_MARKETING") -> str:
    created = await client.execute(CREATE, email=email, status=status)
    contact_id: str = created["createContact"]["contact"]["id"]
    return contact_id


async def test_a_filtered_contacts_connection_pages_and_counts_what_the_filter_selects(
    runtime: Runtime,
) -> None:
    client = await open_client(runtime.services)
    wanted = [await create(client, f"p{n}@wanted.example") for n in range(5)]
    for n in range(3):
        await create(client, f"q{n}@other.example")

    pages = await every_page(
        client,
        f"""query($first: Int, $after: String) {{ contacts(filter:
            {{emailDomain: "WANTED.example"}}, first: $first, after: $after) {{ {PAGE} }} }}""",
        ("contacts",),
        2,
    )
    assert len(pages) == 3
    assert_counted(pages, 5)
    assert [node["id"] for node in items(pages)] == wanted  # in the order they were created
    everyone = await client.execute("{ contacts(first: 1) { totalCount } }")
    assert everyone["contacts"]["totalCount"] == 8  # the account's own counter


async def test_a_status_history_pages_newest_first_and_counts_every_change(
    runtime: Runtime,
) -> None:
    client = await open_client(runtime.services)
    contact_id = await create(client, "h@example.com", "MARKETING")
    for status in ("NON_MARKETING", "MARKETING", "NON_MARKETING", "MARKETING"):
        result = await client.execute(SET_STATUS, ids=[contact_id], status=status)
        assert result["setMarketingStatus"]["userErrors"] == []

    pages = await every_page(
        client,
        f"""query($id: ID!, $first: Int, $after: String) {{ contact(id: $id) {{
            statusHistory(first: $first, after: $after) {{ {HISTORY_PAGE} }} }} }}""",
        ("contact", "statusHistory"),
        2,
        id=contact_id,
    )
    assert_counted(pages, 5)
    changes = items(pages)
    assert [(c["toStatus"], c["pending"]) for c in changes] == [
        ("MARKETING", False),
        ("NON_MARKETING", True),
        ("MARKETING", False),
        ("NON_MARKETING", True),
        ("MARKETING", False),
    ]
    assert [c["at"] for c in changes] == sorted((c["at"] for c in changes), reverse=True)


async def test_lists_page_newest_first_and_count_every_list(runtime: Runtime) -> None:
    client = await open_client(runtime.services)
    made = [
        (await client.execute(CREATE_LIST, n=f"L{n}"))["createList"]["list"]["id"] for n in range(5)
    ]

    pages = await every_page(
        client,
        f"""query($first: Int, $after: String) {{
            lists(first: $first, after: $after) {{ {PAGE} }} }}""",
        ("lists",),
        2,
    )
    assert_counted(pages, 5)
    assert [node["id"] for node in items(pages)] == made[::-1]


async def test_a_page_after_a_cursor_with_nothing_left_before_it_has_no_previous_page(
    runtime: Runtime,
) -> None:
    """hasPreviousPage tells whether items lie at or before the cursor now: once the items up
    to the cursor are gone, the page after it is the connection's first."""
    client = await open_client(runtime.services)
    for n in range(3):
        await client.execute(CREATE_LIST, n=f"L{n}")
    first = (await client.execute(f"{{ lists(first: 1) {{ {PAGE} }} }}"))["lists"]
    newest = first["edges"][0]["node"]["id"]
    deleted = await client.execute(
        "mutation($id: ID!) { deleteList(id: $id) { deletedId } }", id=newest
    )
    assert deleted["deleteList"]["deletedId"] == newest
    after = (
        await client.execute(
            f"query($after: String) {{ lists(first: 5, after: $after) {{ {PAGE} }} }}",
            after=first["pageInfo"]["endCursor"],
        )
    )["lists"]
    assert len(after["edges"]) == 2 and after["totalCount"] == 2
    assert after["pageInfo"]["hasPreviousPage"] is False
    assert after["pageInfo"]["hasNextPage"] is False


async def test_bulk_operations_page_newest_first_and_count_every_operation(
    runtime: Runtime,
) -> None:
    client = await open_client(runtime.services)
    contact_id = await create(client, "b@example.com", "MARKETING")
    started = []
    for _ in range(3):
        payload = await client.execute(
            """mutation($ids: [ID!]!) { startBulkStatusChange(input: {selection: {ids: $ids},
               status: NON_MARKETING}) { bulkOperation { id } userErrors { code } } }""",
            ids=[contact_id],
        )
        assert payload["startBulkStatusChange"]["userErrors"] == []
        started.append(payload["startBulkStatusChange"]["bulkOperation"]["id"])

    pages = await every_page(
        client,
        f"""query($first: Int, $after: String) {{
            bulkOperations(first: $first, after: $after) {{ {PAGE} }} }}""",
        ("bulkOperations",),
        2,
    )
    assert_counted(pages, 3)
    assert [node["id"] for node in items(pages)] == started[::-1]


async def test_tier_changes_and_alerts_page_newest_first_and_count_every_record(
    runtime: Runtime,
) -> None:
    client = await open_client(runtime.services, tier_limit=1, tier_step=1)
    for n in range(4):  # the 2nd, 3rd and 4th marketing contact each upgrade the tier
        await create(client, f"t{n}@example.com", "MARKETING")

    changes = await every_page(
        client,
        f"""query($first: Int, $after: String) {{ account {{
            tierChanges(first: $first, after: $after) {{
            {PAGE_INFO} edges {{ cursor node {{ id fromLimit toLimit }} }} }} }} }}""",
        ("account", "tierChanges"),
        2,
    )
    assert_counted(changes, 3)
    assert [(c["fromLimit"], c["toLimit"]) for c in items(changes)] == [(3, 4), (2, 3), (1, 2)]

    alerts = await every_page(
        client,
        f"""query($first: Int, $after: String) {{ account {{ alerts(first: $first, after: $after)
            {{ {PAGE_INFO} edges {{ cursor node {{ id kind }} }} }} }} }}""",
        ("account", "alerts"),
        3,
    )
    raised = items(alerts)
    assert_counted(alerts, len(raised))
    assert len({alert["id"] for alert in raised}) == len(raised) > 3
    assert [alert["kind"] for alert in raised].count("TIER_UPGRADED") == 3


async def test_an_empty_connection_has_no_cursors_and_counts_nothing(runtime: Runtime) -> None:
    client = await open_client(runtime.services)
    data = await client.execute(
        f"""{{ contacts(filter: {{emailDomain: "nobody.example"}}) {{ {PAGE} }}
              lists {{ {PAGE} }} bulkOperations {{ {PAGE} }}
              account {{ tierChanges {{ {PAGE} }} alerts {{ {PAGE} }} }} }}"""
    )
    connections = [
        data["contacts"],
        data["lists"],
        data["bulkOperations"],
        data["account"]["tierChanges"],
        data["account"]["alerts"],
    ]
    empty = {
        "totalCount": 0,
        "pageInfo": {
            "hasNextPage": False,
            "hasPreviousPage": False,
            "startCursor": None,
            "endCursor": None,
        },
        "edges": [],
    }
    assert connections == [empty] * 5
