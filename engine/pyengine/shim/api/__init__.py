"""Message modules of containerd 1.6's shim API subset (regenerate with tools/gen-proto).

shim_pb2: containerd.task.v2 (the Task service's requests and responses); task_pb2:
containerd.v1.types (Status, Process, ProcessInfo); mount_pb2: containerd.types.Mount;
task_events_pb2: containerd.events (TaskCreate, TaskStart, TaskExit, ...); events_pb2:
containerd.services.events.ttrpc.v1 (Envelope, ForwardRequest); runc_options_pb2:
containerd.runc.v1 (Options, CheckpointOptions, ProcessDetails).
"""

TASK_SERVICE = "containerd.task.v2.Task"
EVENTS_SERVICE = "containerd.services.events.ttrpc.v1.Events"
