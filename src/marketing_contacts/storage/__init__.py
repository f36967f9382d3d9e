"""MongoDB adapters of the service ports: one module per collection, indexes beside queries."""
