"""OCI bundles: turn an image config and create options into a runnable config.json."""

from pyengine.bundles.config import build_config
from pyengine.bundles.errors import BundleError, InvalidContainerConfig, UserNotFound
from pyengine.bundles.options import ContainerOptions, HostDevice, Rlimit
from pyengine.bundles.seccomp import default_profile
from pyengine.bundles.user import ResolvedUser, resolve_user
from pyengine.bundles.write import etc_files, write_bundle

__all__ = [
    "BundleError",
    "ContainerOptions",
    "HostDevice",
    "InvalidContainerConfig",
    "ResolvedUser",
    "Rlimit",
    "UserNotFound",
    "build_config",
    "default_profile",
    "etc_files",
    "resolve_user",
    "write_bundle",
]
