"""A user the image does not name at create, resolved at each start instead (dockerd's order).

dockerd resolves `--user` (and `--group-add`) against the container's /etc/passwd and /etc/group
when it starts the container, not when it creates it: `docker create --user nosuch` succeeds,
and its start fails with "unable to find user nosuch: no matching entries in passwd file"
(State.Error, exit code 128) until the files name it (docker cp can put them there). The
bundle is written at create; when the user cannot be resolved then, it is written for root with
no extra groups and marked here, and each start resolves the user again and rewrites the
process' user (and HOME, when it came from the user) in config.json before the shim reads it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from pyengine.bundles import resolve_user
from pyengine.bundles.config import merge_env, process_user
from pyengine.containers.networking import rewrite_config

MARK = "user_at_start"  # Container.config key: {"home_from_user": bool}
PLACEHOLDER = "0:0"  # the bundle's user until a start resolves the real one


def marker(image_env: Sequence[str], env: Sequence[str]) -> dict[str, Any]:
    """What a start needs to know besides the user: whether HOME is the user's home (the
    image's and --env's entries, merged as the bundle merges them, leave it unset)."""
    return {"home_from_user": "HOME" not in merge_env(image_env, env)}


def apply(bundle: Path, rootfs: Path, user: str, group_add: Sequence[str],
          mark: Mapping[str, Any]) -> None:
    """Resolve `user` inside the mounted `rootfs` and write it into the bundle's config.json
    (blocking). Raises UserNotFound (docker's text) when the files still do not name it."""
    resolved = resolve_user(rootfs, user, group_add)

    def change(config: dict[str, Any]) -> None:
        process = config["process"]
        process["user"] = process_user(resolved)
        if mark.get("home_from_user"):
            process["env"] = [item for item in process.get("env") or []
                              if not item.startswith("HOME=")] + [f"HOME={resolved.home}"]

    rewrite_config(bundle, change)
