"""pyctl, the docker-like command line client (entry point: pyengine.cli.main:main)."""
