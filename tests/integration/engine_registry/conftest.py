"""Registry fixtures (docker-registry on 127.0.0.1, token server, fault proxy, test images)."""

from tests.fixtures.registry import *  # noqa: F403
