"""A minimal client for containerd's Tasks.Update gRPC call (ctr 1.6 has no ``task update``).

The request is encoded by hand (protobuf wire format) from containerd 1.6's
api/services/tasks/v1/tasks.proto:

    message UpdateTaskRequest {
        string container_id = 1;
        google.protobuf.Any resources = 2;
        map<string, string> annotations = 3;
    }

``resources`` is a typeurl Any: containerd registers the runtime-spec's LinuxResources under
``types.containerd.io/opencontainers/runtime-spec/1/LinuxResources`` and marshals it as JSON.
The reply is google.protobuf.Empty. The namespace travels in the ``containerd-namespace``
metadata key.
"""

from __future__ import annotations

import json

import grpc

UPDATE_METHOD = "/containerd.services.tasks.v1.Tasks/Update"
LINUX_RESOURCES_URL = "types.containerd.io/opencontainers/runtime-spec/1/LinuxResources"


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _length_delimited(field: int, payload: bytes) -> bytes:
    return _varint(field << 3 | 2) + _varint(len(payload)) + payload


def encode_any(type_url: str, value: bytes) -> bytes:
    """google.protobuf.Any {string type_url = 1; bytes value = 2;}."""
    return _length_delimited(1, type_url.encode()) + _length_delimited(2, value)


def encode_update_request(container_id: str, resources: dict) -> bytes:
    any_resources = encode_any(LINUX_RESOURCES_URL, json.dumps(resources).encode())
    return (_length_delimited(1, container_id.encode())
            + _length_delimited(2, any_resources))


def update_task(address: str, namespace: str, container_id: str, resources: dict,
                timeout: float = 30.0) -> None:
    """Call Tasks.Update; raises grpc.RpcError with containerd's status on failure."""
    with grpc.insecure_channel(f"unix://{address}") as channel:
        call = channel.unary_unary(UPDATE_METHOD, request_serializer=None,
                                   response_deserializer=None)
        call(encode_update_request(container_id, resources), timeout=timeout,
             metadata=(("containerd-namespace", namespace),))
