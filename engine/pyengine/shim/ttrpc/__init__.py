"""ttrpc over asyncio: containerd's framed protobuf RPC between a daemon and its shims.

framing: the 10-byte frame header, message types and flags; codec: the Request, Response and
google.rpc.Status envelopes (hand-encoded protobuf, so this package needs no generated code);
errors: status codes and one exception class per code; server: an asyncio server dispatching
each request to an async handler in its own task; client: concurrent calls multiplexed over one
connection. Protocol: ttrpc 1.2 (unary requests as containerd 1.6 uses them, plus streams).
This package imports only the standard library.
"""
