"""docker's events.Message document for an engine event: what `pyctl events --format
'{{json .}}'` prints and what the Docker Engine API's /events streams (one shape, one place).
Lean: pyctl imports it on its start-up path."""

from __future__ import annotations

TYPE_CHECKING = False  # typing is not imported on pyctl's start-up path
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Protocol

    class EventLike(Protocol):
        """pyengine.events.Event, or the gRPC edge's system_pb2.Event."""

        @property
        def type(self) -> str: ...
        @property
        def action(self) -> str: ...
        @property
        def id(self) -> str: ...
        @property
        def attributes(self) -> Mapping[str, str]: ...
        @property
        def time_nano(self) -> int: ...


def docker_message(event: EventLike) -> dict:
    """docker's field names and order; the deprecated status/id/from are set for containers
    and id/status for images only, as dockerd 20.10 does."""
    attributes = dict(sorted(event.attributes.items()))
    doc: dict = {}
    if event.type == "container":
        doc = {"status": event.action, "id": event.id, "from": attributes.get("image", "")}
    elif event.type == "image":
        doc = {"status": event.action, "id": event.id}
    doc.update({"Type": event.type, "Action": event.action,
                "Actor": {"ID": event.id, "Attributes": attributes}, "scope": "local",
                "time": event.time_nano // 1_000_000_000, "timeNano": event.time_nano})
    return doc
