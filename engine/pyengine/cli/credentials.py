"""The client's docker-style config.json: {"auths": {"host": {"auth": base64(user:pass)}}}.

Location: --config DIR, else $PYCTL_CONFIG (a directory), else ~/.pyctl; the file is
DIR/config.json with mode 0600. Docker Hub's key is "https://index.docker.io/v1/".
"""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path

from pyengine.cli.client import ConfigFileError  # defined where main catches it

DOCKER_HUB_KEY = "https://index.docker.io/v1/"
HUB_ALIASES = ("docker.io", "index.docker.io", "registry-1.docker.io", DOCKER_HUB_KEY,
               "https://index.docker.io/v1", "")

__all__ = ["DOCKER_HUB_KEY", "ConfigFileError", "CredentialStore", "config_dir", "server_key"]


def config_dir(explicit: str | None) -> Path:
    if explicit:
        return Path(explicit)
    if os.environ.get("PYCTL_CONFIG"):
        return Path(os.environ["PYCTL_CONFIG"])
    return Path.home() / ".pyctl"


def server_key(server: str) -> str:
    """The config key for a registry: host[:port], or docker's key for Docker Hub."""
    bare = server.removeprefix("https://").removeprefix("http://").rstrip("/")
    if server in HUB_ALIASES or bare.split("/", 1)[0] in HUB_ALIASES:
        return DOCKER_HUB_KEY
    return bare.split("/", 1)[0]


class CredentialStore:
    def __init__(self, directory: Path) -> None:
        self.path = directory / "config.json"

    def _load(self) -> dict:
        try:
            data = json.loads(self.path.read_text())
        except FileNotFoundError:
            return {}
        except (OSError, json.JSONDecodeError) as err:
            raise ConfigFileError(f"reading {self.path}: {err}") from err
        return data if isinstance(data, dict) else {}

    def _save(self, data: dict) -> None:
        try:
            self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            tmp = self.path.with_name(".config.json.tmp")
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as handle:
                json.dump(data, handle, indent="\t")
                handle.write("\n")
            os.replace(tmp, self.path)
        except OSError as err:
            raise ConfigFileError(f"writing {self.path}: {err.strerror}") from err

    def get(self, server: str) -> tuple[str, str, str] | None:
        """(username, password, identity token) stored for `server`, or None."""
        entry = (self._load().get("auths") or {}).get(server_key(server))
        if not entry:
            return None
        token = entry.get("identitytoken", "")
        auth = entry.get("auth", "")
        if not auth:
            return ("", "", token) if token else None
        try:
            user, _, password = base64.b64decode(auth).decode().partition(":")
        except (ValueError, UnicodeDecodeError) as err:
            raise ConfigFileError(f"{self.path}: bad auth entry for {server}") from err
        return user, password, token

    def put(self, server: str, username: str, password: str, token: str = "") -> None:
        data = self._load()
        entry: dict[str, str] = {}
        if token:
            entry = {"auth": base64.b64encode(f"{username}:".encode()).decode(),
                     "identitytoken": token}
        else:
            entry = {"auth": base64.b64encode(f"{username}:{password}".encode()).decode()}
        data.setdefault("auths", {})[server_key(server)] = entry
        self._save(data)

    def remove(self, server: str) -> bool:
        data = self._load()
        auths = data.get("auths") or {}
        if server_key(server) not in auths:
            return False
        del auths[server_key(server)]
        self._save(data)
        return True
