"""ContainerFactory: containers for one test (or module), all force-deleted afterwards."""

from __future__ import annotations

import itertools
import shutil
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .bundle import Container, default_config
from .host import kill_marked, remove_cgroup
from .runtime import Runtime

_serial = itertools.count(1)


class ContainerFactory:
    """make() containers for one test; cleanup() force-deletes them all."""

    def __init__(self, rootfs: str, bundles: Path) -> None:
        self.rootfs = rootfs
        self.bundles = bundles
        self.made: list[Container] = []

    def make(self, rt: Runtime, mutate: Callable[[dict[str, Any]], Any] | None = None,
             ) -> Container:
        cid = f"st{next(_serial)}-{uuid.uuid4().hex[:8]}"
        bundle = self.bundles / cid
        bundle.mkdir()
        config = default_config(self.rootfs, cid)
        if mutate:
            mutate(config)
        ctr = Container(rt=rt, id=cid, bundle=bundle, config=config)
        self.made.append(ctr)
        return ctr

    def cleanup(self) -> None:
        for ctr in self.made:
            try:
                ctr.force_cleanup()
            finally:
                kill_marked(ctr.id)
                cg = ctr.config.get("linux", {}).get("cgroupsPath")
                if cg:
                    remove_cgroup(cg, ctr.id)
                shutil.rmtree(ctr.bundle, ignore_errors=True)
