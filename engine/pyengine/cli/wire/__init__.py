"""gRPC over HTTP/2 for pyctl, without grpcio (see channel.py)."""
