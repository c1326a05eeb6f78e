"""config.json as typed objects, decoded once at the boundary.

Every class below describes one object of the OCI runtime-spec config (the parts pyrunc acts
on) with a field table: ``(json name, attribute, kind, required)``. One generic walker
(:func:`decode`) turns parsed JSON into instances, checking each value's JSON type, integer
range, enumeration and string content (no NUL, no lone surrogate), and raising
:class:`ConfigError` naming the field path: ``linux.resources.devices[0].allow: expected
boolean, got string``. Cross-field rules (an id mapping must fit in 32 bits, a device node needs
major and minor...) live in each class's ``_validate``. Unknown properties are ignored, as the
runtime spec requires (an unknown hook kind included). An absent or ``null`` member is ``None``.

Why not msgspec or dataclasses: pyrunc's start-up budget (docs/ARCHITECTURE.md). ``import
msgspec.json`` costs ~20 ms on the interpreter the launcher runs (a whole ``pyrunc create`` is
~25 ms) and ``dataclasses`` imports re, inspect and typing; plain slotted classes with a table
cost a fraction of a millisecond to import and to walk.

``to_json()`` gives back the JSON shape (what state.json records: the process for exec, the
resources for update, the poststart/poststop hooks).
"""

from __future__ import annotations

from pyrunc.errors import ConfigError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, ClassVar, TypeVar

    M = TypeVar("M", bound="Model")

U16 = 2**16 - 1
U32 = 2**32 - 1
U64 = 2**64 - 1
I32 = 2**31 - 1
I64 = 2**63 - 1
ID_MAX = 2**32 - 2  # (uid_t)-1 means "unchanged" to setresuid and chown: never a user id
MAJOR_MAX = 2**12 - 1  # the kernel's dev_t: 12 bits of major, 20 of minor
MINOR_MAX = 2**20 - 1
# A hook's timeout in seconds ends as a poll(2) timeout in milliseconds, a C int: 2^31-1 ms is
# 24.8 days; a larger value overflowed in the selector (OverflowError) instead of waiting.
HOOK_TIMEOUT_MAX = I32 // 1000

NAMESPACE_TYPES = ("pid", "network", "mount", "ipc", "uts", "user", "cgroup", "time")
HOOK_KINDS = ("prestart", "createRuntime", "createContainer", "startContainer", "poststart",
              "poststop")
ROOTFS_PROPAGATIONS = ("private", "rprivate", "slave", "rslave", "shared", "rshared",
                       "unbindable", "runbindable")
DEVICE_TYPES = ("c", "b", "u", "p")

_JSON_TYPE = {str: "string", int: "integer", float: "number", bool: "boolean", dict: "object",
              list: "array", type(None): "null"}


def fail(path: str, msg: str) -> ConfigError:
    return ConfigError(f"invalid config: {path}: {msg}")


def _got(value: object) -> str:
    return _JSON_TYPE.get(type(value), type(value).__name__)


def check_text(value: str, path: str) -> None:
    """A string the kernel or a C library will see: no NUL byte, and encodable (JSON's
    ``"\\ud800"`` decodes to a lone surrogate that no system call can take)."""
    if "\x00" in value:
        raise fail(path, "contains a NUL byte")
    if not value.isascii():
        try:
            value.encode()
        except UnicodeEncodeError:
            raise fail(path, "contains an invalid Unicode escape (lone surrogate)") from None


# -- kinds: how one JSON value is checked and converted ------------------------------------------
class Kind:
    __slots__ = ()

    def decode(self, value: Any, path: str) -> Any:
        raise NotImplementedError

    def encode(self, value: Any) -> Any:
        return value


class Str(Kind):
    """A string; ``raw`` skips the NUL/surrogate rule (annotations are only ever echoed back as
    JSON), ``absolute`` requires a leading ``/``."""

    __slots__ = ("absolute", "nonempty", "raw")

    def __init__(self, absolute: bool = False, raw: bool = False,
                 nonempty: bool = False) -> None:
        self.absolute = absolute
        self.raw = raw
        self.nonempty = nonempty

    def decode(self, value: Any, path: str) -> str:
        if type(value) is not str:
            raise fail(path, f"expected string, got {_got(value)}")
        if not self.raw:
            check_text(value, path)
        if self.nonempty and not value:
            raise fail(path, "must not be empty")
        if self.absolute and not value.startswith("/"):
            raise fail(path, f"{value!r} is not an absolute path")
        return value


class Enum(Kind):
    __slots__ = ("values",)

    def __init__(self, values: tuple[str, ...]) -> None:
        self.values = values

    def decode(self, value: Any, path: str) -> str:
        if type(value) is not str:
            raise fail(path, f"expected string, got {_got(value)}")
        if value not in self.values:
            raise fail(path, f"{value!r} is not one of {', '.join(self.values)}")
        return value


class Int(Kind):
    """An integer in ``lo..hi`` (a JSON boolean or a number with a fraction is no integer)."""

    __slots__ = ("hi", "lo")

    def __init__(self, lo: int, hi: int) -> None:
        self.lo = lo
        self.hi = hi

    def decode(self, value: Any, path: str) -> int:
        if type(value) is not int:
            raise fail(path, f"expected integer, got {_got(value)}")
        if not self.lo <= value <= self.hi:
            raise fail(path, f"{value} is out of range {self.lo}..{self.hi}")
        return value


class Bool(Kind):
    __slots__ = ()

    def decode(self, value: Any, path: str) -> bool:
        if type(value) is not bool:
            raise fail(path, f"expected boolean, got {_got(value)}")
        return value


class ListOf(Kind):
    __slots__ = ("item",)

    def __init__(self, item: Kind) -> None:
        self.item = item

    def decode(self, value: Any, path: str) -> list:
        if type(value) is not list:
            raise fail(path, f"expected array, got {_got(value)}")
        item = self.item.decode
        return [item(v, f"{path}[{i}]") for i, v in enumerate(value)]

    def encode(self, value: Any) -> Any:
        enc = self.item.encode
        return [enc(v) for v in value]


class MapOf(Kind):
    """A JSON object with free keys (checked as text) and values of one kind."""

    __slots__ = ("item", "raw")

    def __init__(self, item: Kind, raw: bool = False) -> None:
        self.item = item
        self.raw = raw

    def decode(self, value: Any, path: str) -> dict:
        if type(value) is not dict:
            raise fail(path, f"expected object, got {_got(value)}")
        item = self.item.decode
        out = {}
        for key, v in value.items():
            where = f'{path}["{key}"]'
            if not self.raw:
                check_text(key, where)
            out[key] = item(v, where)
        return out

    def encode(self, value: Any) -> Any:
        enc = self.item.encode
        return {k: enc(v) for k, v in value.items()}


class Obj(Kind):
    __slots__ = ("cls",)

    def __init__(self, cls: type[Model]) -> None:
        self.cls = cls

    def decode(self, value: Any, path: str) -> Model:
        return decode(self.cls, value, path)

    def encode(self, value: Any) -> Any:
        return value.to_json()


class Env(Kind):
    """A process environment entry ``NAME=value`` (runc refuses the others, and the C library
    could not pass them on)."""

    __slots__ = ()

    def decode(self, value: Any, path: str) -> str:
        if type(value) is not str:
            raise fail(path, f"expected string, got {_got(value)}")
        check_text(value, path)
        name, eq, _ = value.partition("=")
        if not eq:
            raise fail(path, f"invalid environment variable {value!r}: missing '='")
        if not name:
            raise fail(path, f"invalid environment variable {value!r}: name cannot be empty")
        return value


STR = Str()
RAW_STR = Str(raw=True)
ABS_PATH = Str(absolute=True)
BOOL = Bool()
STRS = ListOf(STR)
# maskedPaths/readonlyPaths: the schema wants absolute paths; only the empty one (which names
# no file) is refused here, relative ones are resolved inside the rootfs as before
PATHS = ListOf(Str(nonempty=True))
INT32 = Int(-I32 - 1, I32)
INT64 = Int(-I64 - 1, I64)
UINT16 = Int(0, U16)
UINT32 = Int(0, U32)
UINT64 = Int(0, U64)
ID = Int(0, ID_MAX)
MEM_BYTES = Int(-1, I64)  # -1 is "unlimited"; the kernel refuses any other negative value

if TYPE_CHECKING:
    Field = tuple[str, str, Kind, bool]


# -- the walker ----------------------------------------------------------------------------------
class Model:
    """Base of the config classes: ``FIELDS`` drives decoding, construction and ``to_json``."""

    __slots__ = ()
    FIELDS: ClassVar[tuple[Field, ...]] = ()

    def __init__(self, **values: Any) -> None:
        for _, attr, _, _ in self.FIELDS:
            setattr(self, attr, values.pop(attr, None))
        if values:
            raise TypeError(f"{type(self).__name__}: unknown fields {sorted(values)}")

    def _validate(self, path: str) -> None:
        """Rules across fields; raises ConfigError naming the field."""

    def to_json(self) -> dict[str, Any]:
        out = {}
        for name, attr, kind, _ in self.FIELDS:
            value = getattr(self, attr)
            if value is not None:
                out[name] = kind.encode(value)
        return out

    def copy(self: M) -> M:
        new = object.__new__(type(self))
        for _, attr, _, _ in self.FIELDS:
            setattr(new, attr, getattr(self, attr))
        return new

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and all(
            getattr(self, a) == getattr(other, a) for _, a, _, _ in self.FIELDS)

    __hash__ = None  # type: ignore[assignment]  # mutable, compared by value

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.to_json()!r})"


def decode(cls: type[M], data: Any, path: str = "") -> M:
    """``data`` (parsed JSON) as an instance of ``cls``, checked field by field."""
    if type(data) is not dict:
        raise fail(path or "(root)", f"expected object, got {_got(data)}")
    obj = object.__new__(cls)
    prefix = f"{path}." if path else ""
    for name, attr, kind, required in cls.FIELDS:
        value = data.get(name)
        if value is None:
            if required:
                raise fail(prefix + name, "is required")
            setattr(obj, attr, None)
        else:
            setattr(obj, attr, kind.decode(value, prefix + name))
    obj._validate(path)
    return obj


# -- process -------------------------------------------------------------------------------------
class ConsoleSize(Model):
    __slots__ = ("height", "width")
    height: int
    width: int
    FIELDS = (("height", "height", UINT16, True), ("width", "width", UINT16, True))


class User(Model):
    __slots__ = ("additional_gids", "gid", "uid", "umask", "username")
    uid: int
    gid: int
    umask: int | None
    additional_gids: list[int] | None
    username: str | None
    FIELDS = (
        ("uid", "uid", ID, True),
        ("gid", "gid", ID, True),
        ("umask", "umask", UINT32, False),
        ("additionalGids", "additional_gids", ListOf(ID), False),
        ("username", "username", STR, False),
    )


class Capabilities(Model):
    __slots__ = ("ambient", "bounding", "effective", "inheritable", "permitted")
    bounding: list[str] | None
    effective: list[str] | None
    inheritable: list[str] | None
    permitted: list[str] | None
    ambient: list[str] | None
    FIELDS = tuple((k, k, STRS, False)
                   for k in ("bounding", "effective", "inheritable", "permitted", "ambient"))


class Rlimit(Model):
    __slots__ = ("hard", "soft", "type")
    type: str
    soft: int
    hard: int
    FIELDS = (("type", "type", STR, True), ("soft", "soft", UINT64, True),
              ("hard", "hard", UINT64, True))


class IOPriority(Model):
    __slots__ = ("klass", "priority")
    klass: str
    priority: int | None
    FIELDS = (
        ("class", "klass", Enum(("IOPRIO_CLASS_RT", "IOPRIO_CLASS_BE", "IOPRIO_CLASS_IDLE")),
         True),
        ("priority", "priority", Int(0, 7), False),
    )


SCHED_POLICIES = ("SCHED_OTHER", "SCHED_FIFO", "SCHED_RR", "SCHED_BATCH", "SCHED_ISO",
                  "SCHED_IDLE", "SCHED_DEADLINE")
SCHED_FLAGS = ("SCHED_FLAG_RESET_ON_FORK", "SCHED_FLAG_RECLAIM", "SCHED_FLAG_DL_OVERRUN",
               "SCHED_FLAG_KEEP_POLICY", "SCHED_FLAG_KEEP_PARAMS", "SCHED_FLAG_UTIL_CLAMP_MIN",
               "SCHED_FLAG_UTIL_CLAMP_MAX")


class Scheduler(Model):
    __slots__ = ("deadline", "flags", "nice", "period", "policy", "priority", "runtime")
    policy: str
    nice: int | None
    priority: int | None
    flags: list[str] | None
    runtime: int | None
    deadline: int | None
    period: int | None
    FIELDS = (
        ("policy", "policy", Enum(SCHED_POLICIES), True),
        ("nice", "nice", Int(-20, 19), False),
        ("priority", "priority", INT32, False),
        ("flags", "flags", ListOf(Enum(SCHED_FLAGS)), False),
        ("runtime", "runtime", UINT64, False),
        ("deadline", "deadline", UINT64, False),
        ("period", "period", UINT64, False),
    )


class Process(Model):
    __slots__ = ("apparmor_profile", "args", "capabilities", "console_size", "cwd", "env",
                 "io_priority", "no_new_privileges", "oom_score_adj", "rlimits", "scheduler",
                 "selinux_label", "terminal", "user")
    terminal: bool | None
    console_size: ConsoleSize | None
    user: User | None
    args: list[str]
    env: list[str] | None
    cwd: str
    capabilities: Capabilities | None
    rlimits: list[Rlimit] | None
    no_new_privileges: bool | None
    apparmor_profile: str | None
    oom_score_adj: int | None
    selinux_label: str | None
    io_priority: IOPriority | None
    scheduler: Scheduler | None
    FIELDS = (
        ("terminal", "terminal", BOOL, False),
        ("consoleSize", "console_size", Obj(ConsoleSize), False),
        ("user", "user", Obj(User), False),
        ("args", "args", STRS, True),
        ("env", "env", ListOf(Env()), False),
        ("cwd", "cwd", ABS_PATH, True),
        ("capabilities", "capabilities", Obj(Capabilities), False),
        ("rlimits", "rlimits", ListOf(Obj(Rlimit)), False),
        ("noNewPrivileges", "no_new_privileges", BOOL, False),
        ("apparmorProfile", "apparmor_profile", STR, False),
        ("oomScoreAdj", "oom_score_adj", Int(-1000, 1000), False),
        ("selinuxLabel", "selinux_label", STR, False),
        ("ioPriority", "io_priority", Obj(IOPriority), False),
        ("scheduler", "scheduler", Obj(Scheduler), False),
    )

    def _validate(self, path: str) -> None:
        if not self.args:
            raise fail(f"{path}.args", "must contain at least the executable")

    @property
    def uid(self) -> int:
        return self.user.uid if self.user is not None else 0

    @property
    def gid(self) -> int:
        return self.user.gid if self.user is not None else 0


# -- root, mounts, hooks -------------------------------------------------------------------------
class Root(Model):
    __slots__ = ("path", "readonly")
    path: str
    readonly: bool | None
    # "" would make the bundle directory itself the rootfs
    FIELDS = (("path", "path", Str(nonempty=True), True), ("readonly", "readonly", BOOL, False))


class Mount(Model):
    __slots__ = ("destination", "options", "source", "type")
    destination: str
    type: str | None
    source: str | None
    options: list[str] | None
    FIELDS = (
        ("destination", "destination", Str(nonempty=True), True),
        ("type", "type", STR, False),
        ("source", "source", STR, False),
        ("options", "options", STRS, False),
    )

    @property
    def is_bind(self) -> bool:
        opts = self.options or ()
        return self.type == "bind" or "bind" in opts or "rbind" in opts


class Hook(Model):
    __slots__ = ("args", "env", "path", "timeout")
    path: str
    args: list[str] | None
    env: list[str] | None
    timeout: int | None
    FIELDS = (
        ("path", "path", ABS_PATH, True),
        ("args", "args", STRS, False),
        ("env", "env", STRS, False),
        ("timeout", "timeout", Int(1, HOOK_TIMEOUT_MAX), False),
    )


_HOOK_LIST = ListOf(Obj(Hook))


class Hooks(Model):
    __slots__ = ("create_container", "create_runtime", "poststart", "poststop", "prestart",
                 "start_container")
    prestart: list[Hook] | None
    create_runtime: list[Hook] | None
    create_container: list[Hook] | None
    start_container: list[Hook] | None
    poststart: list[Hook] | None
    poststop: list[Hook] | None
    FIELDS = (
        ("prestart", "prestart", _HOOK_LIST, False),
        ("createRuntime", "create_runtime", _HOOK_LIST, False),
        ("createContainer", "create_container", _HOOK_LIST, False),
        ("startContainer", "start_container", _HOOK_LIST, False),
        ("poststart", "poststart", _HOOK_LIST, False),
        ("poststop", "poststop", _HOOK_LIST, False),
    )


# -- linux ---------------------------------------------------------------------------------------
class Namespace(Model):
    __slots__ = ("path", "type")
    type: str
    path: str | None
    FIELDS = (("type", "type", Enum(NAMESPACE_TYPES), True), ("path", "path", STR, False))


class IDMapping(Model):
    __slots__ = ("container_id", "host_id", "size")
    container_id: int
    host_id: int
    size: int
    FIELDS = (
        ("containerID", "container_id", UINT32, True),
        ("hostID", "host_id", UINT32, True),
        ("size", "size", Int(1, 2**32), True),
    )

    def _validate(self, path: str) -> None:
        # The kernel would truncate what does not fit (a hostID of 2^32 became 0: host root).
        for name, start in (("containerID", self.container_id), ("hostID", self.host_id)):
            if start + self.size > 2**32:  # either field may be the wrong one: name both
                raise fail(f"{path}.{name}", f"{start} + {path}.size ({self.size}) exceeds "
                           "2^32")


# S_IFCHR, S_IFBLK and S_IFIFO (the stat module is not imported on this path)
_DEVICE_TYPE_BITS = {"c": 0o020000, "u": 0o020000, "b": 0o060000, "p": 0o010000}


class Device(Model):
    __slots__ = ("file_mode", "gid", "major", "minor", "path", "type", "uid")
    type: str
    path: str
    major: int | None
    minor: int | None
    file_mode: int | None
    uid: int | None
    gid: int | None
    FIELDS = (
        ("type", "type", Enum(DEVICE_TYPES), True),
        ("path", "path", ABS_PATH, True),
        ("major", "major", Int(0, MAJOR_MAX), False),
        ("minor", "minor", Int(0, MINOR_MAX), False),
        ("fileMode", "file_mode", Int(0, 0o177777), False),
        ("uid", "uid", ID, False),
        ("gid", "gid", ID, False),
    )

    def _validate(self, path: str) -> None:
        if self.type != "p" and (self.major is None or self.minor is None):
            raise fail(path, "major and minor are required for block and character devices")
        # fileMode may carry the node's type bits (podman sends S_IFCHR|0600, as stat shows a
        # device): they must then be those of `type`; only the permission bits are used.
        kind_bits = (self.file_mode or 0) & 0o170000
        if kind_bits and kind_bits != _DEVICE_TYPE_BITS[self.type]:
            raise fail(f"{path}.fileMode", f"file type bits {kind_bits:#o} do not match "
                       f"device type {self.type!r}")


class DeviceRule(Model):
    """A device cgroup rule; absent major/minor are wildcards (as is -1), absent access rwm."""

    __slots__ = ("access", "allow", "major", "minor", "type")
    allow: bool
    type: str | None
    major: int | None
    minor: int | None
    access: str | None
    FIELDS = (
        ("allow", "allow", BOOL, True),
        ("type", "type", Enum(("a", "b", "c")), False),
        ("major", "major", Int(-1, MAJOR_MAX), False),
        ("minor", "minor", Int(-1, MINOR_MAX), False),
        ("access", "access", STR, False),
    )

    def _validate(self, path: str) -> None:
        access = self.access
        if access is not None and (not access or len(set(access)) != len(access)
                                   or not set(access) <= {"r", "w", "m"}):
            raise fail(f"{path}.access", f"{access!r} is not a non-empty combination of r, w, m")


class Memory(Model):
    __slots__ = ("check_before_update", "disable_oom_killer", "kernel", "kernel_tcp", "limit",
                 "reservation", "swap", "swappiness", "use_hierarchy")
    limit: int | None
    reservation: int | None
    swap: int | None
    kernel: int | None
    kernel_tcp: int | None
    swappiness: int | None
    disable_oom_killer: bool | None
    use_hierarchy: bool | None
    check_before_update: bool | None
    FIELDS = (
        ("limit", "limit", MEM_BYTES, False),
        ("reservation", "reservation", MEM_BYTES, False),
        ("swap", "swap", MEM_BYTES, False),
        ("kernel", "kernel", MEM_BYTES, False),
        ("kernelTCP", "kernel_tcp", MEM_BYTES, False),
        ("swappiness", "swappiness", UINT64, False),
        ("disableOOMKiller", "disable_oom_killer", BOOL, False),
        ("useHierarchy", "use_hierarchy", BOOL, False),
        ("checkBeforeUpdate", "check_before_update", BOOL, False),
    )


class CPU(Model):
    __slots__ = ("burst", "cpus", "idle", "mems", "period", "quota", "realtime_period",
                 "realtime_runtime", "shares")
    shares: int | None
    quota: int | None
    burst: int | None
    period: int | None
    realtime_runtime: int | None
    realtime_period: int | None
    cpus: str | None
    mems: str | None
    idle: int | None
    FIELDS = (
        ("shares", "shares", UINT64, False),
        ("quota", "quota", INT64, False),
        ("burst", "burst", UINT64, False),
        ("period", "period", UINT64, False),
        ("realtimeRuntime", "realtime_runtime", INT64, False),
        ("realtimePeriod", "realtime_period", UINT64, False),
        ("cpus", "cpus", STR, False),
        ("mems", "mems", STR, False),
        ("idle", "idle", Int(0, 1), False),  # the kernel's cpu.idle takes 0 or 1 only
    )


class Pids(Model):
    __slots__ = ("limit",)
    limit: int
    FIELDS = (("limit", "limit", INT64, True),)


class WeightDevice(Model):
    __slots__ = ("leaf_weight", "major", "minor", "weight")
    major: int
    minor: int
    weight: int | None
    leaf_weight: int | None
    FIELDS = (
        ("major", "major", Int(0, MAJOR_MAX), True),
        ("minor", "minor", Int(0, MINOR_MAX), True),
        ("weight", "weight", UINT16, False),
        ("leafWeight", "leaf_weight", UINT16, False),
    )


class ThrottleDevice(Model):
    __slots__ = ("major", "minor", "rate")
    major: int
    minor: int
    rate: int
    FIELDS = (
        ("major", "major", Int(0, MAJOR_MAX), True),
        ("minor", "minor", Int(0, MINOR_MAX), True),
        ("rate", "rate", UINT64, True),
    )


_THROTTLES = ListOf(Obj(ThrottleDevice))


class BlockIO(Model):
    __slots__ = ("leaf_weight", "throttle_read_bps_device", "throttle_read_iops_device",
                 "throttle_write_bps_device", "throttle_write_iops_device", "weight",
                 "weight_device")
    weight: int | None
    leaf_weight: int | None
    weight_device: list[WeightDevice] | None
    throttle_read_bps_device: list[ThrottleDevice] | None
    throttle_write_bps_device: list[ThrottleDevice] | None
    throttle_read_iops_device: list[ThrottleDevice] | None
    throttle_write_iops_device: list[ThrottleDevice] | None
    FIELDS = (
        ("weight", "weight", UINT16, False),
        ("leafWeight", "leaf_weight", UINT16, False),
        ("weightDevice", "weight_device", ListOf(Obj(WeightDevice)), False),
        ("throttleReadBpsDevice", "throttle_read_bps_device", _THROTTLES, False),
        ("throttleWriteBpsDevice", "throttle_write_bps_device", _THROTTLES, False),
        ("throttleReadIOPSDevice", "throttle_read_iops_device", _THROTTLES, False),
        ("throttleWriteIOPSDevice", "throttle_write_iops_device", _THROTTLES, False),
    )

    def throttles(self) -> list[tuple[str, list[ThrottleDevice]]]:
        """(JSON name, entries) of each throttle list present."""
        return [(name, getattr(self, attr)) for name, attr, kind, _ in self.FIELDS
                if kind is _THROTTLES and getattr(self, attr)]


class HugepageLimit(Model):
    __slots__ = ("limit", "page_size")
    page_size: str
    limit: int
    FIELDS = (("pageSize", "page_size", STR, True), ("limit", "limit", UINT64, True))


class InterfacePriority(Model):
    __slots__ = ("name", "priority")
    name: str
    priority: int
    FIELDS = (("name", "name", STR, True), ("priority", "priority", UINT32, True))


class Network(Model):
    __slots__ = ("class_id", "priorities")
    class_id: int | None
    priorities: list[InterfacePriority] | None
    FIELDS = (
        ("classID", "class_id", UINT32, False),
        ("priorities", "priorities", ListOf(Obj(InterfacePriority)), False),
    )


class Rdma(Model):
    __slots__ = ("hca_handles", "hca_objects")
    hca_handles: int | None
    hca_objects: int | None
    FIELDS = (("hcaHandles", "hca_handles", UINT32, False),
              ("hcaObjects", "hca_objects", UINT32, False))


class Resources(Model):
    __slots__ = ("block_io", "cpu", "devices", "hugepage_limits", "memory", "network", "pids",
                 "rdma", "unified")
    devices: list[DeviceRule] | None
    memory: Memory | None
    cpu: CPU | None
    pids: Pids | None
    block_io: BlockIO | None
    hugepage_limits: list[HugepageLimit] | None
    network: Network | None
    rdma: dict[str, Rdma] | None
    unified: dict[str, str] | None
    FIELDS = (
        ("devices", "devices", ListOf(Obj(DeviceRule)), False),
        ("memory", "memory", Obj(Memory), False),
        ("cpu", "cpu", Obj(CPU), False),
        ("pids", "pids", Obj(Pids), False),
        ("blockIO", "block_io", Obj(BlockIO), False),
        ("hugepageLimits", "hugepage_limits", ListOf(Obj(HugepageLimit)), False),
        ("network", "network", Obj(Network), False),
        ("rdma", "rdma", MapOf(Obj(Rdma)), False),
        ("unified", "unified", MapOf(STR), False),
    )

    def has_limits(self) -> bool:
        """Anything beyond device rules (which rootless containers cannot enforce anyway)."""
        return any(getattr(self, attr) for _, attr, _, _ in self.FIELDS if attr != "devices")


class SeccompArg(Model):
    __slots__ = ("index", "op", "value", "value_two")
    index: int
    value: int | None
    value_two: int | None
    op: str
    FIELDS = (
        ("index", "index", UINT32, True),
        ("value", "value", UINT64, False),
        ("valueTwo", "value_two", UINT64, False),
        ("op", "op", STR, True),
    )


class SeccompSyscall(Model):
    __slots__ = ("action", "args", "errno_ret", "name", "names")
    names: list[str] | None
    name: str | None  # the pre-1.0 spelling of a single name
    action: str
    errno_ret: int | None
    args: list[SeccompArg] | None
    FIELDS = (
        ("names", "names", STRS, False),
        ("name", "name", STR, False),
        ("action", "action", STR, True),
        ("errnoRet", "errno_ret", UINT32, False),
        ("args", "args", ListOf(Obj(SeccompArg)), False),
    )

    def _validate(self, path: str) -> None:
        if self.names is None and self.name is None:
            raise fail(f"{path}.names", "is required")


class Seccomp(Model):
    __slots__ = ("architectures", "default_action", "default_errno_ret", "flags",
                 "listener_metadata", "listener_path", "syscalls")
    default_action: str
    default_errno_ret: int | None
    architectures: list[str] | None
    flags: list[str] | None
    listener_path: str | None
    listener_metadata: str | None
    syscalls: list[SeccompSyscall] | None
    FIELDS = (
        ("defaultAction", "default_action", STR, True),
        ("defaultErrnoRet", "default_errno_ret", UINT32, False),
        ("architectures", "architectures", STRS, False),
        ("flags", "flags", STRS, False),
        ("listenerPath", "listener_path", STR, False),
        ("listenerMetadata", "listener_metadata", STR, False),
        ("syscalls", "syscalls", ListOf(Obj(SeccompSyscall)), False),
    )


class TimeOffset(Model):
    __slots__ = ("nanosecs", "secs")
    secs: int | None
    nanosecs: int | None
    FIELDS = (("secs", "secs", INT64, False), ("nanosecs", "nanosecs", Int(0, 999_999_999),
                                                False))


class TimeOffsets(Model):
    __slots__ = ("boottime", "monotonic")
    monotonic: TimeOffset | None
    boottime: TimeOffset | None
    FIELDS = (("monotonic", "monotonic", Obj(TimeOffset), False),
              ("boottime", "boottime", Obj(TimeOffset), False))


class Personality(Model):
    __slots__ = ("domain", "flags")
    domain: str
    flags: list[str] | None
    FIELDS = (("domain", "domain", Enum(("LINUX", "LINUX32")), True),
              ("flags", "flags", STRS, False))


class IntelRdt(Model):
    __slots__ = ("clos_id", "enable_cmt", "enable_mbm", "l3_cache_schema", "mem_bw_schema")
    clos_id: str | None
    l3_cache_schema: str | None
    mem_bw_schema: str | None
    enable_cmt: bool | None
    enable_mbm: bool | None
    FIELDS = (
        ("closID", "clos_id", STR, False),
        ("l3CacheSchema", "l3_cache_schema", STR, False),
        ("memBwSchema", "mem_bw_schema", STR, False),
        ("enableCMT", "enable_cmt", BOOL, False),
        ("enableMBM", "enable_mbm", BOOL, False),
    )


class Linux(Model):
    __slots__ = ("cgroups_path", "devices", "gid_mappings", "intel_rdt", "masked_paths",
                 "mount_label", "namespaces", "personality", "readonly_paths", "resources",
                 "rootfs_propagation", "seccomp", "sysctl", "time_offsets", "uid_mappings")
    namespaces: list[Namespace] | None
    uid_mappings: list[IDMapping] | None
    gid_mappings: list[IDMapping] | None
    time_offsets: TimeOffsets | None
    devices: list[Device] | None
    cgroups_path: str | None
    resources: Resources | None
    intel_rdt: IntelRdt | None
    sysctl: dict[str, str] | None
    seccomp: Seccomp | None
    rootfs_propagation: str | None
    masked_paths: list[str] | None
    readonly_paths: list[str] | None
    mount_label: str | None
    personality: Personality | None
    FIELDS = (
        ("namespaces", "namespaces", ListOf(Obj(Namespace)), False),
        ("uidMappings", "uid_mappings", ListOf(Obj(IDMapping)), False),
        ("gidMappings", "gid_mappings", ListOf(Obj(IDMapping)), False),
        ("timeOffsets", "time_offsets", Obj(TimeOffsets), False),
        ("devices", "devices", ListOf(Obj(Device)), False),
        ("cgroupsPath", "cgroups_path", STR, False),
        ("resources", "resources", Obj(Resources), False),
        ("intelRdt", "intel_rdt", Obj(IntelRdt), False),
        ("sysctl", "sysctl", MapOf(STR), False),
        ("seccomp", "seccomp", Obj(Seccomp), False),
        ("rootfsPropagation", "rootfs_propagation", Enum(ROOTFS_PROPAGATIONS), False),
        ("maskedPaths", "masked_paths", PATHS, False),
        ("readonlyPaths", "readonly_paths", PATHS, False),
        ("mountLabel", "mount_label", STR, False),
        ("personality", "personality", Obj(Personality), False),
    )

    def _validate(self, path: str) -> None:
        seen: set[str] = set()
        for i, ns in enumerate(self.namespaces or ()):
            if ns.type in seen:
                raise fail(f"{path}.namespaces[{i}].type", f'duplicate namespace "{ns.type}"')
            seen.add(ns.type)
        for key, maps in (("uidMappings", self.uid_mappings), ("gidMappings", self.gid_mappings)):
            if maps and "user" not in seen:
                raise fail(f"{path}.{key}", "mappings require a user namespace")


class Config(Model):
    __slots__ = ("annotations", "domainname", "hooks", "hostname", "linux", "mounts",
                 "oci_version", "process", "root")
    oci_version: str
    root: Root
    process: Process | None
    hostname: str | None
    domainname: str | None
    mounts: list[Mount] | None
    hooks: Hooks | None
    annotations: dict[str, str] | None
    linux: Linux | None
    FIELDS = (
        ("ociVersion", "oci_version", STR, True),
        ("root", "root", Obj(Root), True),
        ("process", "process", Obj(Process), False),
        ("hostname", "hostname", STR, False),
        ("domainname", "domainname", STR, False),
        ("mounts", "mounts", ListOf(Obj(Mount)), False),
        ("hooks", "hooks", Obj(Hooks), False),
        ("annotations", "annotations", MapOf(RAW_STR, raw=True), False),
        ("linux", "linux", Obj(Linux), False),
    )


def decode_config(data: Any) -> Config:
    return decode(Config, data)


def decode_hooks(data: Any, path: str) -> list[Hook]:
    """One hook list (state.json keeps the poststart and poststop ones)."""
    return _HOOK_LIST.decode(data, path)
