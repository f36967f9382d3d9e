"""arq workers: job functions take ids, re-read state, and are safe to run twice."""
