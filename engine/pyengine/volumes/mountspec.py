"""Mount requests as docker takes them: -v/--volume, --mount, --tmpfs and --volumes-from, parsed
and validated with docker 20.10's rules and error texts (InvalidArgument).

Pure: no volume is created and no file is looked at here except a --mount bind's source
(docker checks that it exists). `MountSpec` is one parsed request; containers/mounts.py turns
a container's requests into mount points, volumes and OCI mounts.
"""

from __future__ import annotations

import csv
import posixpath
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from pyengine.errors import InvalidArgument

BIND, VOLUME, TMPFS = "bind", "volume", "tmpfs"
RW_MODES = ("ro", "rw")
LABEL_MODES = ("z", "Z")
PROPAGATIONS = ("private", "rprivate", "slave", "rslave", "shared", "rshared")
COPY_MODES = ("nocopy",)
CONSISTENCY_MODES = ("consistent", "cached", "delegated")
DEFAULT_PROPAGATION = "rprivate"
TMPFS_DEFAULTS = ("noexec", "nosuid", "nodev")
_OPPOSITES = {"exec": "noexec", "suid": "nosuid", "dev": "nodev", "rw": "ro", "atime": "noatime",
              "diratime": "nodiratime"}


@dataclass(frozen=True)
class MountSpec:
    """One mount a container asks for."""

    type: str  # bind, volume or tmpfs
    target: str  # clean absolute container path
    source: str = ""  # bind: the host path; volume: its name ("" for an anonymous one)
    read_only: bool = False
    mode: str = ""  # -v's mode field as written (inspect's Mode)
    propagation: str = ""  # bind only
    nocopy: bool = False  # volume: no seeding from the image
    driver: str = ""
    volume_options: tuple[tuple[str, str], ...] = ()
    volume_labels: tuple[tuple[str, str], ...] = ()
    tmpfs_options: tuple[str, ...] = ()  # tmpfs data: size=..., mode=..., exec
    create_source: bool = False  # -v: a missing host path is created (docker's -v does)


def _invalid_spec(raw: str) -> str:
    return f"invalid volume specification: '{raw}'"


def _valid_mode(mode: str) -> bool:
    """docker's linuxValidMountMode: comma-separated, at most one of each kind."""
    if not mode:
        return True
    counts = [0] * 5
    for option in mode.split(","):
        for i, kind in enumerate((RW_MODES, LABEL_MODES, PROPAGATIONS, COPY_MODES,
                                  CONSISTENCY_MODES)):
            if option in kind:
                counts[i] += 1
                break
        else:
            return False
    return max(counts) <= 1


def _check_target(target: str, kind: str) -> None:
    if posixpath.normpath(target.replace("\\", "/")) in ("/", "//"):
        raise InvalidArgument(f'invalid mount config for type "{kind}": invalid specification: '
                              "destination can't be '/'")
    if not target.startswith("/"):
        raise InvalidArgument(f'invalid mount config for type "{kind}": invalid mount path: '
                              f"'{target}' mount path must be absolute")


def clean(path: str) -> str:
    return posixpath.normpath(path) if path != "//" else "/"


def parse_volume(raw: str) -> MountSpec:
    """-v/--volume: `/ctr` (anonymous), `name:/ctr[:mode]`, `/host:/ctr[:mode]`."""
    parts = raw.split(":", 3)
    if not parts[0]:
        raise InvalidArgument(_invalid_spec(raw))
    source, mode = "", ""
    if len(parts) == 1:
        target = parts[0]
    elif len(parts) == 2:
        if _valid_mode(parts[1]):  # "/foo:rw": a destination and a mode is no volume
            raise InvalidArgument(_invalid_spec(raw))
        source, target = parts
    elif len(parts) == 3:
        source, target, mode = parts
    else:
        raise InvalidArgument(_invalid_spec(raw))
    if not _valid_mode(mode):
        raise InvalidArgument(f"invalid mode: {mode}")
    options = mode.split(",") if mode else []
    kind = BIND if source.startswith("/") else VOLUME
    propagation = next((o for o in options if o in PROPAGATIONS), "")
    nocopy = "nocopy" in options
    try:
        _check_target(target, kind)
        if kind == VOLUME and propagation:
            raise InvalidArgument(f'invalid mount config for type "{kind}": field BindOptions '
                                  "must not be specified")
        if kind == BIND and nocopy:
            raise InvalidArgument(f'invalid mount config for type "{kind}": field '
                                  "VolumeOptions must not be specified")
    except InvalidArgument as err:
        raise InvalidArgument(f"{_invalid_spec(raw)}: {err}") from None
    return MountSpec(
        type=kind, target=clean(target), source=clean(source) if kind == BIND else source,
        # docker gives a named local volume without a mode the SELinux mode "z"
        read_only="ro" in options, mode=mode or ("z" if kind == VOLUME and source else ""),
        propagation=(propagation or DEFAULT_PROPAGATION) if kind == BIND else "",
        nocopy=nocopy, create_source=kind == BIND)


def _mount_flag_error(raw: str, cause: str) -> InvalidArgument:
    return InvalidArgument(f'invalid argument "{raw}" for "--mount" flag: {cause}')


def _go_bool(value: str) -> bool | None:
    """strconv.ParseBool."""
    if value in ("1", "t", "T", "TRUE", "true", "True"):
        return True
    if value in ("0", "f", "F", "FALSE", "false", "False"):
        return False
    return None


@dataclass
class MountFields:
    """--mount's fields as docker's client reads them."""

    type: str = VOLUME
    source: str = ""
    target: str = ""
    read_only: bool = False
    propagation: str = ""
    nocopy: bool = False
    driver: str = ""
    volume_set: bool = False  # any volume-* key (docker's VolumeOptions != nil)
    bind_set: bool = False
    tmpfs_set: bool = False
    tmpfs_size: int = 0
    tmpfs_mode: int = 0


def _csv_fields(raw: str) -> list[str]:
    try:
        return next(csv.reader([raw], strict=True), [])
    except csv.Error as err:
        raise _mount_flag_error(raw, f"parse error: {err}") from None


def mount_fields(raw: str) -> tuple[MountFields, dict[str, str], dict[str, str]]:
    """The client's part of --mount (docker's opts.MountOpt.Set): the fields, the volume
    options and the volume labels."""
    from pyengine.units import ram_in_bytes

    m = MountFields()
    options: dict[str, str] = {}
    labels: dict[str, str] = {}
    for item in _csv_fields(raw):
        key, sep, value = item.partition("=")
        if not sep:
            if key in ("readonly", "ro"):
                m.read_only = True
            elif key == "volume-nocopy":
                m.nocopy = m.volume_set = True
            elif key == "bind-nonrecursive":
                m.bind_set = True
            else:
                raise _mount_flag_error(raw, f"invalid field '{item}' must be a key=value pair")
            continue
        if key == "type":
            m.type = value.lower()
        elif key in ("source", "src"):
            m.source = value
        elif key in ("target", "dst", "destination"):
            m.target = value
        elif key in ("readonly", "ro", "bind-nonrecursive", "volume-nocopy"):
            parsed = _go_bool(value)
            if parsed is None:
                raise _mount_flag_error(raw, f"invalid value for {key}: {value}")
            if key == "volume-nocopy":
                m.nocopy, m.volume_set = parsed, True
            elif key == "bind-nonrecursive":
                m.bind_set = True
            else:
                m.read_only = parsed
        elif key == "consistency":
            pass
        elif key == "bind-propagation":
            m.propagation, m.bind_set = value.lower(), True
        elif key in ("volume-label", "volume-opt"):
            m.volume_set = True
            k, _, v = value.partition("=")
            if k:
                (labels if key == "volume-label" else options)[k] = v
        elif key == "volume-driver":
            m.driver, m.volume_set = value, True
        elif key == "tmpfs-size":
            try:
                m.tmpfs_size = ram_in_bytes(value)
            except ValueError:
                raise _mount_flag_error(raw, f"invalid value for {key}: {value}") from None
            m.tmpfs_set = True
        elif key == "tmpfs-mode":
            try:
                m.tmpfs_mode = int(value, 8)
            except ValueError:
                raise _mount_flag_error(raw, f"invalid value for {key}: {value}") from None
            m.tmpfs_set = True
        else:
            raise _mount_flag_error(raw, f"unexpected key '{key}' in '{item}'")
    if not m.type:
        raise _mount_flag_error(raw, "type is required")
    if not m.target:
        raise _mount_flag_error(raw, "target is required")
    for flag, prefix, kind in ((m.volume_set, "volume", VOLUME), (m.bind_set, "bind", BIND),
                               (m.tmpfs_set, "tmpfs", TMPFS)):
        if flag and m.type != kind:
            raise _mount_flag_error(
                raw, f"cannot mix '{prefix}-*' options with mount type '{m.type}'")
    return m, options, labels


def _tmpfs_size(size: int) -> str:
    for suffix, divisor in (("g", 1 << 30), ("m", 1 << 20), ("k", 1 << 10)):
        if size % divisor == 0:
            return f"{size // divisor}{suffix}"
    return str(size)


def parse_mount(raw: str, check_source: bool = True) -> MountSpec:
    """--mount: docker's client parsing (its errors carry the flag), then the daemon's
    validation (`invalid mount config for type ...`). `check_source`: a bind's host path
    must exist (False when only re-reading a stored request)."""
    m, options, labels = mount_fields(raw)
    kind = m.type

    def invalid(cause: str) -> InvalidArgument:
        return InvalidArgument(f'invalid mount config for type "{kind}": {cause}')

    _check_target(m.target, kind)
    tmpfs: list[str] = []
    if kind == BIND:
        if not m.source:
            raise invalid("field Source must not be empty")
        if m.propagation and m.propagation not in PROPAGATIONS:
            raise invalid(f"invalid propagation mode: {m.propagation}")
        if not m.source.startswith("/"):
            raise invalid(f"invalid mount path: '{m.source}' mount path must be absolute")
        if check_source:
            import os

            if not os.path.lexists(m.source):
                raise invalid(f"bind source path does not exist: {m.source}")
    elif kind == VOLUME:
        if m.read_only and not m.source:
            raise invalid("must not set ReadOnly mode when using anonymous volumes")
    elif kind == TMPFS:
        if m.source:
            raise invalid("field Source must not be specified")
        if m.read_only:
            tmpfs.append("ro")
        if m.tmpfs_mode:
            tmpfs.append(f"mode={m.tmpfs_mode:o}")
        if m.tmpfs_size:
            tmpfs.append(f"size={_tmpfs_size(m.tmpfs_size)}")
    else:
        raise invalid("mount type unknown")
    return MountSpec(
        type=kind, target=clean(m.target),
        source=clean(m.source) if kind == BIND else m.source, read_only=m.read_only,
        propagation=(m.propagation or DEFAULT_PROPAGATION) if kind == BIND else "",
        nocopy=m.nocopy, driver=m.driver, volume_options=tuple(sorted(options.items())),
        volume_labels=tuple(sorted(labels.items())), tmpfs_options=tuple(tmpfs))


def parse_tmpfs(raw: str) -> MountSpec:
    """--tmpfs /path[:options]."""
    target, _, options = raw.partition(":")
    try:
        _check_target(target, TMPFS)
    except InvalidArgument as err:  # docker's --tmpfs errors lack the mount-config prefix
        raise InvalidArgument(str(err).split(": ", 1)[1]) from None
    return MountSpec(type=TMPFS, target=clean(target),
                     tmpfs_options=tuple(o for o in options.split(",") if o))


def tmpfs_mount_options(options: Iterable[str]) -> list[str]:
    """docker's tmpfs options: noexec, nosuid, nodev, then the user's; a later flag replaces
    its opposite and a later key=value its key."""
    merged: list[str] = []
    for option in (*TMPFS_DEFAULTS, *options):
        key = option.partition("=")[0]
        opposite = _OPPOSITES.get(option) or next(
            (k for k, v in _OPPOSITES.items() if v == option), None)
        merged = [o for o in merged if o != opposite and o != option and
                  not ("=" in option and o.partition("=")[0] == key)]
        merged.append(option)
    return merged


def parse_volumes_from(raw: str) -> tuple[str, str]:
    """--volumes-from CONTAINER[:ro|rw] -> (container, mode); mode "" inherits."""
    if not raw:
        raise InvalidArgument("volumes-from specification cannot be an empty string")
    ref, _, mode = raw.partition(":")
    if mode:
        options = mode.split(",")
        if not _valid_mode(mode) or any(o in PROPAGATIONS or o in COPY_MODES
                                        for o in options):
            raise InvalidArgument(f"invalid mode: {mode}")
    return ref, mode


def check_duplicates(specs: Sequence[MountSpec]) -> None:
    seen: set[str] = set()
    for spec in specs:
        if spec.target in seen:
            raise InvalidArgument(f"Duplicate mount point: {spec.target}")
        seen.add(spec.target)
