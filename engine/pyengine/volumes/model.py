"""A volume's record and docker's rules for its name."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from pyengine.errors import InvalidArgument

LOCAL = "local"
NAME_CHARS = "[a-zA-Z0-9][a-zA-Z0-9_.-]"
_NAME_RE = re.compile(NAME_CHARS + "+")
# the local driver's options (docker 20.10's; "size" needs a quota-capable filesystem there,
# which this driver does not offer)
DRIVER_OPTIONS = ("type", "device", "o", "size")
# an option that needs others (docker's mandatoryOpts)
REQUIRED_WITH = {"device": ("type",), "type": ("device",), "o": ("device", "type")}


@dataclass
class Volume:
    name: str
    driver: str = LOCAL
    labels: dict[str, str] = field(default_factory=dict)
    options: dict[str, str] = field(default_factory=dict)
    created_at: str = ""  # RFC 3339, seconds, UTC
    anonymous: bool = False  # made for a container (image VOLUME, -v /path, --mount without src)

    @property
    def mounted_by_driver(self) -> bool:
        """The local driver mounts something (a tmpfs, a bind, a device) on its _data."""
        return bool(self.options.get("type") or self.options.get("device"))


def validate_name(name: str) -> None:
    """docker's local driver: two characters at least, of NAME_CHARS."""
    if len(name) == 1:
        raise InvalidArgument(f"create {name}: volume name is too short, names should be at "
                              "least two alphanumeric characters")
    if not _NAME_RE.fullmatch(name):
        raise InvalidArgument(
            f'create {name}: "{name}" includes invalid characters for a local volume name, '
            f'only "{NAME_CHARS}" are allowed. If you intended to pass a host directory, use '
            "absolute path")


def validate_options(name: str, options: dict[str, str]) -> None:
    for key in options:
        if key not in DRIVER_OPTIONS:
            raise InvalidArgument(f'create {name}: invalid option: "{key}"')
    for key, needed in REQUIRED_WITH.items():
        if key in options:
            for other in needed:
                if other not in options:
                    raise InvalidArgument(f'create {name}: missing required option: "{other}"')
    if "size" in options:
        raise InvalidArgument(f"create {name}: quota size requested but no quota support")
