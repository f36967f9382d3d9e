"""What the benchmarks share: a stack of real processes on free ports, accounts to measure,
tierAlerts subscribers over WebSocket, and figure tables. Imported by the scripts in bench/
(run from the repository root as `.venv/bin/python bench/<name>.py`, which puts bench/ first on
the import path)."""
