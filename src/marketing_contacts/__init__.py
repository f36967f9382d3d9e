"""Marketing contacts: a GraphQL API over MongoDB, with arq workers on Redis."""

__version__ = "0.1.0"
