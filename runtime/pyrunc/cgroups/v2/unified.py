"""v2 ``unified`` key/values: each key is a file in the container's cgroup directory."""

from __future__ import annotations

import errno

from pyrunc.cgroups import fs
from pyrunc.errors import CgroupError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pyrunc.spec.model import Resources


def wants(resources: Resources) -> bool:
    return bool(resources.unified)


def apply(path: str, resources: Resources) -> None:
    for key, value in (resources.unified or {}).items():
        if "/" in key or key in ("", ".", "..") or key.startswith("cgroup."):
            raise CgroupError(f"cgroup: set unified {key!r}: not a controller file name")
        try:
            fs.write(path, key, value)
        except CgroupError as exc:
            if getattr(exc, "errno", None) not in (errno.ENOENT, errno.EACCES):
                raise
            controller = key.partition(".")[0]
            available = (fs.read_optional(path, "cgroup.controllers") or "").split()
            if controller not in available:
                raise CgroupError(f"cgroup: set unified {key!r}: controller {controller!r} is "
                                  f"not available in {path} (available: "
                                  f"{' '.join(available) or 'none'})") from None
            raise
