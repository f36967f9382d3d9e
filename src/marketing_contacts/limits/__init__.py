"""Adapters that bound what a caller may ask of the service, on Redis (P5)."""
