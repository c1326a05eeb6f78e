"""Subnets: docker's default pools in order, skipping those overlapping another network or a
route/address of the daemon's namespace; docker's overlap error for a user's --subnet."""

from __future__ import annotations

import pytest
from pyengine.errors import FailedPrecondition
from pyengine.network import subnets


def test_first_free_default_pool() -> None:
    assert subnets.choose([], []) == "172.17.0.0/16"
    assert subnets.choose(["172.17.0.0/16"], []) == "172.18.0.0/16"
    # a route of the namespace counts as much as a network (a host on 172.18.5.0/24)
    assert subnets.choose(["172.17.0.0/16"], ["172.18.5.0/24", "10.0.0.0/8"]) == \
        "172.19.0.0/16"
    # an address inside a pool, however small its prefix
    assert subnets.choose([], ["172.17.9.9/32"]) == "172.18.0.0/16"


def test_after_the_172_pools_come_192_168_slash_20s() -> None:
    taken = [f"172.{i}.0.0/16" for i in range(17, 32)]
    assert subnets.choose(taken, []) == "192.168.0.0/20"
    assert subnets.choose(taken, ["192.168.0.0/24"]) == "192.168.16.0/20"
    with pytest.raises(FailedPrecondition, match="could not find an available, non-overlapping"):
        subnets.choose([*taken, "192.168.0.0/16"], [])


def test_user_subnet_overlap() -> None:
    subnets.check_free("10.1.0.0/16", ["172.17.0.0/16", "10.2.0.0/16"])
    with pytest.raises(FailedPrecondition,
                       match=r"^Pool overlaps with other one on this address space$"):
        subnets.check_free("10.1.2.0/24", ["172.17.0.0/16", "10.1.0.0/16"])
    with pytest.raises(FailedPrecondition, match="Pool overlaps"):
        subnets.check_free("10.0.0.0/8", ["10.1.0.0/16"])
