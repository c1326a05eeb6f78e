"""The metadata database's schema as numbered migrations, applied in order, each once.

The version reached is kept in the `meta` table (key `schema_version`), where every daemon since
the first has written it: a database written before migrations were numbered is at version 1.
A migration is only ever appended; never edit one that has shipped.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str


MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "images, names, blobs, layers, leases", """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS images (
    id TEXT PRIMARY KEY,
    manifest_digest TEXT NOT NULL,
    manifest_media_type TEXT NOT NULL,
    index_digest TEXT,
    created TEXT NOT NULL,
    os TEXT NOT NULL,
    architecture TEXT NOT NULL,
    variant TEXT NOT NULL DEFAULT '',
    chain_id TEXT NOT NULL,
    size INTEGER NOT NULL,
    added_at TEXT NOT NULL,
    last_tag_time TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS names (
    name TEXT PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('tag', 'digest')),
    image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE,
    created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS names_by_image ON names(image_id);
CREATE TABLE IF NOT EXISTS image_blobs (
    image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE,
    digest TEXT NOT NULL,
    PRIMARY KEY (image_id, digest)
);
CREATE TABLE IF NOT EXISTS layers (
    chain_id TEXT PRIMARY KEY,
    diff_id TEXT NOT NULL,
    parent TEXT,
    size INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS leases (
    id TEXT PRIMARY KEY,
    purpose TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS lease_resources (
    lease_id TEXT NOT NULL REFERENCES leases(id) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN ('content', 'snapshot')),
    key TEXT NOT NULL,
    PRIMARY KEY (lease_id, kind, key)
);
"""),
    # garbage collection asks "is this blob / snapshot referenced?" across all images and
    # leases; without these it scans both tables for every question
    Migration(2, "indexes for garbage collection", """
CREATE INDEX image_blobs_by_digest ON image_blobs(digest);
CREATE INDEX lease_resources_by_kind ON lease_resources(kind, key);
"""),
    # issue 9: containers; spec, state and config are JSON documents the domain decodes
    Migration(3, "containers", """
CREATE TABLE containers (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    image_id TEXT NOT NULL,
    image_name TEXT NOT NULL,
    snapshot TEXT NOT NULL,
    created_at TEXT NOT NULL,
    runtime TEXT NOT NULL,
    spec TEXT NOT NULL,
    config TEXT NOT NULL,
    state TEXT NOT NULL
);
CREATE INDEX containers_by_image ON containers(image_id);
"""),
    # issue 10: networks; a container's endpoint on a network is recorded from create (its
    # config) and is active (host_ifname, address) from start to exit; ip_allocations makes an
    # address held by one container at a time; port_mappings are the published ports held
    Migration(4, "networks", """
CREATE TABLE networks (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    driver TEXT NOT NULL,
    created TEXT NOT NULL,
    bridge TEXT NOT NULL,
    internal INTEGER NOT NULL,
    mtu INTEGER NOT NULL,
    pools TEXT NOT NULL,
    labels TEXT NOT NULL,
    options TEXT NOT NULL
);
CREATE TABLE endpoints (
    container_id TEXT NOT NULL,
    network_id TEXT NOT NULL REFERENCES networks(id),
    container_name TEXT NOT NULL,
    position INTEGER NOT NULL,
    endpoint_id TEXT NOT NULL,
    ip TEXT NOT NULL,
    aliases TEXT NOT NULL,
    links TEXT NOT NULL,
    mac TEXT NOT NULL,
    host_ifname TEXT NOT NULL DEFAULT '',
    ifname TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (container_id, network_id)
);
CREATE INDEX endpoints_by_network ON endpoints(network_id);
CREATE TABLE ip_allocations (
    network_id TEXT NOT NULL REFERENCES networks(id),
    address TEXT NOT NULL,
    container_id TEXT NOT NULL,
    PRIMARY KEY (network_id, address)
);
CREATE INDEX ip_allocations_by_container ON ip_allocations(container_id);
CREATE TABLE port_mappings (
    container_id TEXT NOT NULL,
    host_ip TEXT NOT NULL,
    host_port INTEGER NOT NULL,
    proto TEXT NOT NULL,
    container_port INTEGER NOT NULL,
    PRIMARY KEY (host_ip, host_port, proto)
);
CREATE INDEX port_mappings_by_container ON port_mappings(container_id);
"""),
    # issue 10: volumes (number 4 is the networks' migration, written in parallel); options
    # and labels are JSON; volume_users: which containers use a volume, `active` while one runs
    Migration(5, "volumes", """
CREATE TABLE volumes (
    name TEXT PRIMARY KEY,
    driver TEXT NOT NULL,
    labels TEXT NOT NULL,
    options TEXT NOT NULL,
    created_at TEXT NOT NULL,
    anonymous INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE volume_users (
    volume TEXT NOT NULL REFERENCES volumes(name),
    container_id TEXT NOT NULL,
    active INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (volume, container_id)
);
CREATE INDEX volume_users_by_container ON volume_users(container_id);
"""),
    # issue 11: where each blob is known to be (the registry repositories it was pulled from or
    # pushed to), so a push to another repository of the same registry offers a cross-repository
    # mount first. Number 6 is the build cache's, written in parallel (the lead reconciles).
    # Rows are replaced when seen again: the highest rowid is the most recent.
    Migration(6, "blob sources", """
CREATE TABLE blob_sources (
    digest TEXT NOT NULL,
    registry TEXT NOT NULL,
    repository TEXT NOT NULL,
    PRIMARY KEY (digest, registry, repository)
);
"""),
    # issue 11: the build cache (7: the blob sources' migration, merged first, took 6); one row
    # per layer a build step made, keyed by the step's cache key (build/cachekeys.py); the
    # layer's chain and blob are GC roots while it exists
    Migration(7, "build cache", """
CREATE TABLE build_cache (
    key TEXT PRIMARY KEY,
    chain_id TEXT NOT NULL,
    diff_id TEXT NOT NULL,
    blob_digest TEXT NOT NULL,
    blob_size INTEGER NOT NULL,
    media_type TEXT NOT NULL,
    description TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created TEXT NOT NULL,
    last_used TEXT NOT NULL,
    usage_count INTEGER NOT NULL DEFAULT 0,
    size INTEGER NOT NULL DEFAULT 0
);
"""),
    # docker-py's network tests (EnableIPv6 networks, IPAM options, endpoint settings): a
    # network's EnableIPv6 and IPAM.Options; an endpoint's requested IPv6 address, link-local
    # addresses and driver options (JSON). An IPv6 address is held in ip_allocations beside
    # the IPv4 one (an address' family tells them apart)
    Migration(8, "network extras", """
ALTER TABLE networks ADD COLUMN ipv6 INTEGER NOT NULL DEFAULT 0;
ALTER TABLE networks ADD COLUMN ipam_options TEXT NOT NULL DEFAULT 'null';
ALTER TABLE endpoints ADD COLUMN ip6 TEXT NOT NULL DEFAULT '';
ALTER TABLE endpoints ADD COLUMN link_local TEXT NOT NULL DEFAULT '[]';
ALTER TABLE endpoints ADD COLUMN driver_opts TEXT NOT NULL DEFAULT '{}';
"""),
)

LATEST = MIGRATIONS[-1].version
