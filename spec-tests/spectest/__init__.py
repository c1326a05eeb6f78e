"""Helpers for the OCI runtime conformance suite (spec-tests/): drive a runtime binary, build
bundles, run the probe, check for leftovers and compare observations between runtimes."""
