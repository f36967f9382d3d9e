"""Design principle 7: a page of contacts costs a bounded number of database commands."""

from __future__ import annotations

from marketing_contacts.runtime import open_runtime
from marketing_contacts.settings import Settings
from tests.support.commands import Commands
from tests.support.graphql import Client, open_client

PAGE = """query($first: Int) { contacts(first: $first) { totalCount edges { node { email
  statusHistory { totalCount edges { node { fromStatus toStatus sourceType } } } } } } }"""


async def commands_for(client: Client, commands: Commands, first: int) -> list[str]:
    commands.names.clear()
    data = await client.execute(PAGE, first=first)
    assert len(data["contacts"]["edges"]) == first
    histories = [e["node"]["statusHistory"] for e in data["contacts"]["edges"]]
    assert all(len(h["edges"]) == h["totalCount"] == 2 for h in histories)
    return sorted(commands.names)


async def test_a_page_of_contacts_with_their_history_costs_the_same_whatever_its_size(
    settings_for_tests: Settings,
) -> None:
    commands = Commands()
    async with open_runtime(settings_for_tests, event_listeners=[commands]) as runtime:
        client = await open_client(runtime.services)
        for n in range(12):
            created = await client.execute(
                "mutation($e: String) { createContact(input: {email: $e, marketingStatus: "
                "MARKETING}) { contact { id } } }",
                e=f"h{n}@example.com",
            )
            await client.execute(
                "mutation($ids: [ID!]!) { setMarketingStatus(input: {contactIds: $ids, "
                "status: NON_MARKETING}) { userErrors { code } } }",
                ids=[created["createContact"]["contact"]["id"]],
            )
        small = await commands_for(client, commands, 3)
        large = await commands_for(client, commands, 12)
    # find: the page, and the account (whose counter is the unfiltered totalCount); aggregate:
    # every first history page at once, and every history's totalCount at once
    assert small == large == ["aggregate", "aggregate", "find", "find"]
