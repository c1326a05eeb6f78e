"""Layer identities: chain IDs computed from diff IDs (OCI image spec)."""

from __future__ import annotations

import hashlib


def chain_ids(diff_ids: list[str]) -> list[str]:
    """ChainID(L0) = DiffID(L0); ChainID(Ln) = sha256(ChainID(Ln-1) + " " + DiffID(Ln))."""
    out: list[str] = []
    for diff_id in diff_ids:
        if not out:
            out.append(diff_id)
        else:
            joined = f"{out[-1]} {diff_id}".encode()
            out.append("sha256:" + hashlib.sha256(joined).hexdigest())
    return out
