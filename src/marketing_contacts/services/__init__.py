"""Use cases: load, ask the domain, save, publish. They depend only on the ports."""
