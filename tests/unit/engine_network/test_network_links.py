"""--link's environment and hosts line, against what docker 20.10.24 gave a container run with
`--name web --link my-db:redis-srv` to a target run with `-e FOO=bar -e HOME=/x -e EMPTY=
--expose 6379 --expose 53/udp --expose 53/tcp --expose 7000-7002 --expose 9000/udp` (the
environment in /proc/self/environ order)."""

from __future__ import annotations

from dataclasses import dataclass

from pyengine.network.links import env_prefix, hosts_line, link_env


@dataclass(frozen=True)
class Target:  # network.model.LinkTarget's fields
    alias: str
    name: str
    id: str
    env: tuple[str, ...]
    exposed: tuple[str, ...]


TARGET = Target(alias="redis-srv", name="my-db", id="2f256ec69101" + "0" * 52,
                env=("PATH=/bin:/usr/bin", "FOO=bar", "HOME=/x", "EMPTY=", "JUNK"),
                exposed=("9000/udp", "7002/tcp", "6379/tcp", "53/udp", "7000/tcp", "53/tcp",
                         "7001/tcp"))

DOCKER = """\
REDIS_SRV_PORT=tcp://172.17.0.2:53
REDIS_SRV_PORT_7000_TCP_START=tcp://172.17.0.2:7000
REDIS_SRV_PORT_7000_TCP_ADDR=172.17.0.2
REDIS_SRV_PORT_7000_TCP_PROTO=tcp
REDIS_SRV_PORT_7000_TCP_PORT_START=7000
REDIS_SRV_PORT_7000_TCP_END=tcp://172.17.0.2:7002
REDIS_SRV_PORT_7000_TCP_PORT_END=7002
REDIS_SRV_PORT_53_TCP=tcp://172.17.0.2:53
REDIS_SRV_PORT_53_TCP_ADDR=172.17.0.2
REDIS_SRV_PORT_53_TCP_PORT=53
REDIS_SRV_PORT_53_TCP_PROTO=tcp
REDIS_SRV_PORT_53_UDP=udp://172.17.0.2:53
REDIS_SRV_PORT_53_UDP_ADDR=172.17.0.2
REDIS_SRV_PORT_53_UDP_PORT=53
REDIS_SRV_PORT_53_UDP_PROTO=udp
REDIS_SRV_PORT_6379_TCP=tcp://172.17.0.2:6379
REDIS_SRV_PORT_6379_TCP_ADDR=172.17.0.2
REDIS_SRV_PORT_6379_TCP_PORT=6379
REDIS_SRV_PORT_6379_TCP_PROTO=tcp
REDIS_SRV_PORT_7000_TCP=tcp://172.17.0.2:7000
REDIS_SRV_PORT_7000_TCP_PORT=7000
REDIS_SRV_PORT_7001_TCP=tcp://172.17.0.2:7001
REDIS_SRV_PORT_7001_TCP_ADDR=172.17.0.2
REDIS_SRV_PORT_7001_TCP_PORT=7001
REDIS_SRV_PORT_7001_TCP_PROTO=tcp
REDIS_SRV_PORT_7002_TCP=tcp://172.17.0.2:7002
REDIS_SRV_PORT_7002_TCP_ADDR=172.17.0.2
REDIS_SRV_PORT_7002_TCP_PORT=7002
REDIS_SRV_PORT_7002_TCP_PROTO=tcp
REDIS_SRV_PORT_9000_UDP=udp://172.17.0.2:9000
REDIS_SRV_PORT_9000_UDP_ADDR=172.17.0.2
REDIS_SRV_PORT_9000_UDP_PORT=9000
REDIS_SRV_PORT_9000_UDP_PROTO=udp
REDIS_SRV_NAME=/web/redis-srv
REDIS_SRV_ENV_FOO=bar
REDIS_SRV_ENV_EMPTY=
"""


def test_link_env_is_dockers() -> None:
    assert link_env(TARGET, "172.17.0.2", "web") == DOCKER.splitlines()


def test_link_env_without_ports_or_env() -> None:
    bare = Target(alias="db", name="db", id="a" * 64, env=(), exposed=())
    assert link_env(bare, "172.17.0.5", "/app") == ["DB_NAME=/app/db"]
    # a port without a protocol is tcp
    one = Target(alias="db", name="db", id="a" * 64, env=(), exposed=("5432",))
    assert link_env(one, "172.17.0.5", "app")[0] == "DB_PORT=tcp://172.17.0.5:5432"


def test_env_prefix() -> None:
    assert env_prefix("my-db") == "MY_DB"
    assert env_prefix("/web/redis") == "REDIS"


def test_hosts_line() -> None:
    # docker: "172.17.0.2\tredis-srv 2f256ec69101 my-db" and, for --link my-db,
    # "172.17.0.2\tmy-db 2f256ec69101"
    assert hosts_line(TARGET, "172.17.0.2") == "172.17.0.2\tredis-srv 2f256ec69101 my-db"
    same = Target(alias="my-db", name="/my-db", id=TARGET.id, env=(), exposed=())
    assert hosts_line(same, "172.17.0.2") == "172.17.0.2\tmy-db 2f256ec69101"
    assert hosts_line(same, "172.17.0.2", "cache") == "172.17.0.2\tmy-db cache"
