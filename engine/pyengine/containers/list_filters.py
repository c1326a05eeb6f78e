"""docker ps's --filter, over the containers newest first: id (prefix), name (part), label
(KEY or KEY=VALUE), status, ancestor (image name with or without tag, or id prefix),
exited=N, before and since (a container's id or name: those created before or after it),
health (starting, healthy, unhealthy: the status of its health check, kept after it exits;
none: no check has run), network (a name or an id
prefix of a network it is on), publish and expose (a container port, "80", "80/udp" or a
range, it publishes or exposes), volume (a volume's name or a mount's destination)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from pyengine.containers.model import EXITED, STATUSES, Container
from pyengine.errors import InvalidArgument, NotFound

KEYS = ("id", "name", "label", "status", "ancestor", "exited", "before", "since", "health",
        "network", "publish", "expose", "volume")
# a container's networks: name -> id (the network filter's view; none: the first one only)
NetworksOf = Callable[[Container], Mapping[str, str]]
STATUS_VALUES = (*STATUSES, "restarting", "paused")
HEALTH_VALUES = ("starting", "healthy", "unhealthy", "none")


@dataclass
class Filters:
    values: dict[str, list[str]] = field(default_factory=dict)

    def has(self, key: str) -> bool:
        return key in self.values

    def implies_all(self) -> bool:
        """docker lists stopped containers too when filtering by status, before or since."""
        return any(self.has(k) for k in ("status", "before", "since"))


def parse(items: list[str]) -> Filters:
    out = Filters()
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or key not in KEYS:  # dockerd 20.10's texts
            raise InvalidArgument(f"Invalid filter '{key}'")
        if key == "status" and value not in STATUS_VALUES:
            raise InvalidArgument(f"Invalid filter 'status={value}'")
        if key == "health" and value not in HEALTH_VALUES:
            raise InvalidArgument(f"Unrecognised filter value for health: {value}")
        if key == "exited" and not value.lstrip("-").isdigit():
            raise InvalidArgument(f'strconv.Atoi: parsing "{value}": invalid syntax')
        if key in ("publish", "expose"):
            from pyengine.network.portspec import parse_expose

            out.values.setdefault(key, []).extend(parse_expose([value]))
            continue
        out.values.setdefault(key, []).append(value)
    return out


def select(found: list[Container], filters: Filters, all_: bool,
           resolve: dict[str, str], networks_of: NetworksOf | None = None) -> list[Container]:
    """`found` newest first (every container); `resolve` maps the before/since values to
    container ids."""
    position = {c.id: i for i, c in enumerate(found)}

    def positions(key: str) -> list[int]:
        out = []
        for value in filters.values.get(key, []):
            at = position.get(resolve.get(value, ""))
            if at is None:  # removed between its resolution and the listing
                raise NotFound(f"No such container: {value}")
            out.append(at)
        return out

    before, since = positions("before"), positions("since")
    shown = []
    for i, c in enumerate(found):
        if not (all_ or c.state.listed_as_running or filters.implies_all()):
            continue
        if any(i <= b for b in before) or any(i >= s for s in since):
            continue
        if matches(c, filters, networks_of):
            shown.append(c)
    return shown


def matches(c: Container, filters: Filters, networks_of: NetworksOf | None = None) -> bool:
    for key, values in filters.values.items():
        if key in ("before", "since"):
            continue
        if key == "network":
            networks = networks_of(c) if networks_of is not None else {c.spec.network: ""}
            if not any(name == v or (v and nid.startswith(v))
                       for v in values for name, nid in networks.items()):
                return False
            continue
        # a key's values are alternatives, but every label asked for must be there (dockerd's
        # MatchKVList: compose asks for its project, service and one-off labels at once)
        if not (all if key == "label" else any)(_one(c, key, value) for value in values):
            return False
    return True


def _one(c: Container, key: str, value: str) -> bool:
    if key == "id":
        return c.id.startswith(value)
    if key == "name":
        return value.lstrip("/") in c.name
    if key == "status":  # paused and restarting are words of their own
        return c.state.docker_status() == value
    if key == "exited":
        return c.state.status == EXITED and c.state.exit_code == int(value)
    if key == "health":
        return (c.state.health_status or "none") == value
    if key == "ancestor":
        return _ancestor(c, value)
    if key == "expose":
        return value in (c.config.get("exposed") or ())
    if key == "publish":
        return _publishes(c, value)
    if key == "volume":
        return any(value in (m.get("name"), m.get("destination"))
                   for m in c.config.get("mounts") or ())
    if key == "label":
        k, sep, v = value.partition("=")
        labels = {**c.config.get("image_labels", {}), **c.spec.labels}
        return k in labels and (not sep or labels[k] == v)
    return False


def _publishes(c: Container, key: str) -> bool:
    """docker's: a container port with a binding (-p), or any exposed one under -P."""
    if c.spec.publish_all and key in (c.config.get("exposed") or ()):
        return True
    if not c.spec.publish:
        return False
    from pyengine.network.portspec import parse_publish

    return any(b.key == key for b in parse_publish(c.spec.publish))


def _ancestor(c: Container, value: str) -> bool:
    image_id = c.image_id.removeprefix("sha256:")
    if len(value.removeprefix("sha256:")) >= 4 and image_id.startswith(
            value.removeprefix("sha256:")):
        return True
    return _with_tag(value) == _with_tag(c.image_name)


def _with_tag(name: str) -> str:
    if "@" in name:
        return name
    last = name.rsplit("/", 1)[-1]
    return name if ":" in last else name + ":latest"


PRUNE_KEYS = ("until", "label", "label!")


def prune_matcher(items: list[str]) -> Callable[[Container], bool]:
    """docker container prune's --filter (until=TIME|DURATION: created before it; label=K[=V];
    label!=K[=V]): which stopped containers go."""
    from pyengine.images.inspect import parse_time
    from pyengine.timevalues import to_ns

    until: list[int] = []
    labels: list[str] = []
    not_labels: list[str] = []
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or key not in PRUNE_KEYS:
            raise InvalidArgument(f"Invalid filter '{key}'")
        if key == "until":
            limit = to_ns(value)
            if limit is None:
                raise InvalidArgument(f'failed to parse value as time or duration: "{value}"')
            until.append(limit)
        else:
            (labels if key == "label" else not_labels).append(value)

    def has(c: Container, value: str) -> bool:
        return _one(c, "label", value)

    def match(c: Container) -> bool:
        created = int(parse_time(c.created) * 1_000_000_000)
        return (all(created < limit for limit in until)
                and all(has(c, v) for v in labels)
                and not any(has(c, v) for v in not_labels))

    return match
