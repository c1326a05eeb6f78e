"""The engine's volume mount points, for the volume tests and their fixture."""

from __future__ import annotations

from ctr_harness import ContainerEngine


def volume_mounts(engine: ContainerEngine) -> list[str]:
    """Mount points under the engine's volumes directory (from our mount table)."""
    root = str(engine.data_root / "volumes") + "/"
    found = []
    with open("/proc/self/mountinfo") as handle:
        for line in handle:
            point = line.split()[4]
            if point.startswith(root):
                found.append(point)
    return found
