"""The ports the services depend on: one module per thing stored or done, each a small
Protocol (storage/, events/, workers/ and the test fakes implement them; tests/contract holds
the adapters and the fakes to the same promises)."""
