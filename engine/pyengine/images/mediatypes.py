"""OCI and Docker media types the image service produces or recognises."""

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar"
OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
OCI_LAYER_ZSTD = "application/vnd.oci.image.layer.v1.tar+zstd"
DOCKER_MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
DOCKER_LAYER_GZIP = "application/vnd.docker.image.rootfs.diff.tar.gzip"

INDEXES = (OCI_INDEX, DOCKER_MANIFEST_LIST)
MANIFESTS = (OCI_MANIFEST, DOCKER_MANIFEST)

GZIP_MAGIC = b"\x1f\x8b"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
BZIP2_MAGIC = b"BZh"
XZ_MAGIC = b"\xfd7zXZ\x00"


def layer_type_for(head: bytes) -> str:
    """OCI layer media type for a layer blob starting with `head`."""
    if head.startswith(GZIP_MAGIC):
        return OCI_LAYER_GZIP
    if head.startswith(ZSTD_MAGIC):
        return OCI_LAYER_ZSTD
    return OCI_LAYER


def manifest_type(manifest: dict) -> str:
    """Media type of a manifest document, inferred from its config when mediaType is absent."""
    if manifest.get("mediaType"):
        return manifest["mediaType"]
    if "manifests" in manifest:
        return OCI_INDEX
    if manifest.get("config", {}).get("mediaType") == DOCKER_CONFIG:
        return DOCKER_MANIFEST
    return OCI_MANIFEST
