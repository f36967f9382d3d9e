"""The command line: serve, worker, dev, and the administration commands."""
