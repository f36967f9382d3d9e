"""The GraphQL schema in Strawberry: one module per noun (accounts, usage, tiers, contacts,
statuses, filters, lists, bulk), the generic connections, scalars, enums and errors they share,
and thin roots (query, mutation, subscription) that gather the nouns' fields.

The enums register first, so every annotation that names a domain enum finds one definition.
"""

from marketing_contacts.schema import enums as enums
