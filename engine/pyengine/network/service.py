"""NetworkService: the network domain (create/list/inspect/remove/prune networks; register,
attach, detach, connect and disconnect containers' endpoints)."""

from __future__ import annotations

import builtins
import logging
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from pyengine.network.model import ContainerNet, EndpointRequest, Network, NetworkSettings

if TYPE_CHECKING:
    from pyengine.config import DaemonConfig
    from pyengine.events import EventBus
    from pyengine.store import Database

log = logging.getLogger("pyengine.network")


class NetworkService:
    """Domain: open/recover/close. Management calls block (the gRPC edge runs them in the
    worker pool); attach/detach/restore/connect/disconnect are coroutines on the loop."""

    name = "networks"

    def __init__(self, config: DaemonConfig, db: Database, events: EventBus) -> None:
        self.config = config
        self.db = db
        self.events = events

    # -- Domain -----------------------------------------------------------------------------

    def open(self) -> None:
        """The tables' repository, the default `bridge` and builtin `host`/`none` networks."""

    def recover(self) -> None:
        """Bridges of recorded networks made again if missing; firewall chains rebuilt."""

    def close(self) -> None:
        """Nothing the domain holds outlives it but the kernel's state (bridges, rules)."""

    async def reconcile(self, running: set[str]) -> None:
        """Called by the containers domain at serve: addresses, port mappings and DNS of
        containers not in `running` (ids) are released."""
        raise NotImplementedError

    # -- management -------------------------------------------------------------------------

    def create(self, name: str, driver: str = "bridge", subnet: str = "", gateway: str = "",
               ip_range: str = "", internal: bool = False,
               labels: Mapping[str, str] | None = None,
               options: Mapping[str, str] | None = None) -> Network:
        """A user-defined network; AlreadyExists / InvalidArgument with docker's texts."""
        raise NotImplementedError

    def get(self, ref: str) -> Network:
        """By name, id or unique id prefix; NotFound("network X not found")."""
        raise NotImplementedError

    def list(self, filters: Sequence[str] = ()) -> list[Network]:
        """filters: "name=x", "id=x", "driver=x", "label=k[=v]", "type=custom|builtin"."""
        raise NotImplementedError

    def inspect(self, ref: str) -> dict[str, Any]:
        """docker's JSON shape of a network, Containers filled."""
        raise NotImplementedError

    def remove(self, ref: str) -> None:
        """FailedPrecondition when endpoints are active or the network is builtin."""
        raise NotImplementedError

    def prune(self, filters: Sequence[str] = ()) -> builtins.list[str]:
        """Remove user networks without endpoints; their names."""
        raise NotImplementedError

    # -- containers -------------------------------------------------------------------------

    def register(self, c: ContainerNet, first: EndpointRequest | None) -> None:
        """At create: validate (unknown network, --ip outside subnet or on the default bridge,
        aliases on the default bridge, ...) and record the container's endpoint configs;
        `first` None for none/host/container: modes."""
        raise NotImplementedError

    def unregister(self, cid: str) -> None:
        """At rm: forget the container's configs (and free all it holds)."""
        raise NotImplementedError

    async def attach(self, c: ContainerNet, pid: int) -> None:
        """After the shim's Create, before Start: every recorded endpoint (veth, address,
        route, MTU), ports (reserve + DNAT), DNS listener, etc files. Undoes its own partial
        work on failure and raises. For none/host: etc files only."""
        raise NotImplementedError

    async def detach(self, cid: str) -> None:
        """At exit / failed start; idempotent."""
        raise NotImplementedError

    async def restore(self, c: ContainerNet, pid: int) -> None:
        """Daemon restart, container still running: DNS listeners and reservations again."""
        raise NotImplementedError

    async def connect(self, ref: str, c: ContainerNet, req: EndpointRequest, pid: int) -> None:
        """Add a network to a container; pid 0: not running (only recorded)."""
        raise NotImplementedError

    async def disconnect(self, ref: str, c: ContainerNet, pid: int, force: bool = False) -> None:
        """Remove a network from a container (pid 0: not running)."""
        raise NotImplementedError

    def settings(self, cid: str) -> NetworkSettings:
        """inspect's NetworkSettings and `port`'s mappings."""
        raise NotImplementedError
