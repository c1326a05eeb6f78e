"""The attributes of a container's events, as docker sets them: its labels, then its image
(as the user named it) and name; and the actions of exec events, which name the command."""

from __future__ import annotations

from collections.abc import Sequence

from pyengine.containers.model import Container


def event_attributes(c: Container) -> dict[str, str]:
    labels: dict[str, str] = {**c.config.get("image_labels", {}), **c.spec.labels}
    return {**labels, "image": c.image_name, "name": c.name}


def exec_action(action: str, args: Sequence[str]) -> str:
    """docker's "exec_start: sh -c true" (an `event=exec_start` filter matches it)."""
    return f"{action}: {' '.join(args)}"
