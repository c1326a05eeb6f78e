"""``docker login``'s check: do these credentials open ``/v2/`` on the registry?"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pyengine.registry.auth import basic_header
from pyengine.registry.config import Credentials
from pyengine.registry.errors import AuthenticationFailed, RegistryResponseError

if TYPE_CHECKING:
    from pyengine.registry.client import RegistryClient


def check_login(client: RegistryClient, registry: str, username: str, password: str) -> str:
    from pyengine.registry.client import registry_host

    host = registry_host(registry)
    credentials = Credentials(username, password)
    base = client.base_url(host)
    with client.transport.request("GET", base + "/v2/") as response:
        status = response.status
        challenge_header = response.header("WWW-Authenticate")
    if status == 200:  # open registry: nothing to check, remember them anyway
        client.auth.set_credentials(host, credentials)
        return host
    if status != 401:
        raise RegistryResponseError(f"login to {host}: /v2/ answered HTTP {status}", status)
    challenge = client.auth.remember_challenge(host, challenge_header)
    if challenge is None:
        raise AuthenticationFailed(f"login to {host}: unsupported authentication challenge")
    if challenge.scheme == "basic":
        authorization = basic_header(credentials)
    else:
        token = client.auth.fetch_token(host, challenge, frozenset(), credentials)
        authorization = "Bearer " + token.value
    with client.transport.request(
        "GET", base + "/v2/", headers={"Authorization": authorization}
    ) as response:
        status = response.status
    if status == 401:
        raise AuthenticationFailed(
            f"login to {host} failed for user {username!r}: unauthorized: incorrect "
            "username or password"
        )
    if status != 200:
        raise RegistryResponseError(f"login to {host}: /v2/ answered HTTP {status}", status)
    client.auth.set_credentials(host, credentials)
    return host
