"""The job queue behind the JobQueue port: arq on Redis, kept behind this small interface so it
can be replaced (arq is in maintenance mode)."""
