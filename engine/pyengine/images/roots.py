"""The images domain's garbage-collection roots."""

from __future__ import annotations

from pyengine.gc import Roots
from pyengine.store import ImageRepository


def image_roots(repo: ImageRepository) -> Roots:
    """Every image pins its blobs and the snapshots of its layer chain."""
    chains: set[str] = set()
    for image in repo.images():
        if image.chain_id not in chains:
            chains.update(repo.chain(image.chain_id))
    return Roots(blobs=repo.image_blobs(), snapshots=chains)
