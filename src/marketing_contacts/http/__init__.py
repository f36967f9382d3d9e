"""The HTTP and WebSocket edges: the ASGI app, bearer tokens, bounded bodies and messages."""
