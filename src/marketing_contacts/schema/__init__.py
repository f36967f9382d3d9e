"""The GraphQL schema of the public contract (tests/schema/contract.graphql), in Strawberry.

The enums register first, so every annotation that names a domain enum finds one definition.
"""

from marketing_contacts.schema import enums as enums
