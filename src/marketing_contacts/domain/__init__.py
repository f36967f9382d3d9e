"""The rules of docs/rules.md as pure, synchronous code: no I/O, no clock, no drivers.

Time is always a parameter. Every module is named after the part of the rules it holds.
"""
