"""Generated gRPC stubs for the pyengine.v1 API (regenerate with tools/gen-proto)."""

API_VERSION = "v1"
API_PACKAGE = "pyengine.v1"
