"""Shims: per-container processes speaking containerd's runtime v2 shim API over ttrpc.

Nothing here may import grpc or the rest of the engine: a shim process imports only
pyengine.shim.* (and protobuf's upb runtime), so that it starts fast and stays small.
"""
