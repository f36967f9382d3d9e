"""The local development stack: SecantusDB and Redis servers, child processes, the demo account."""
