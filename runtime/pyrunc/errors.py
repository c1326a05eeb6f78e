"""pyrunc's error hierarchy. Converted to exit codes only at the CLI edge."""


class PyruncError(Exception):
    """Base of every pyrunc error."""

    exit_code = 1


class ConfigError(PyruncError):
    """The bundle's config.json is invalid or unsupported."""


class ContainerNotFound(PyruncError):
    """No container with that id."""


class ContainerExists(PyruncError):
    """A container with that id already exists."""


class InvalidState(PyruncError):
    """The verb is not allowed in the container's current state."""


class KernelError(PyruncError):
    """A system call failed."""


class CgroupError(PyruncError):
    """A cgroup operation failed."""


class SeccompError(PyruncError):
    """Compiling or loading a seccomp filter failed."""


class HookError(PyruncError):
    """An OCI hook failed."""
