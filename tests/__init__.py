"""Test suite of the project (a package so fixtures import as tests.fixtures)."""
