"""Message modules of containerd 1.6's shim API subset (regenerate with tools/gen-proto).

shim_pb2: containerd.task.v2 (the Task service's requests and responses); task_pb2:
containerd.v1.types (Status, Process, ProcessInfo); mount_pb2: containerd.types.Mount;
task_events_pb2: containerd.events (TaskCreate, TaskStart, TaskExit, ...); events_pb2:
containerd.services.events.ttrpc.v1 (Envelope, ForwardRequest); runc_options_pb2:
containerd.runc.v1 (Options, CheckpointOptions, ProcessDetails); cgroups_v1_pb2 and
cgroups_v2_pb2: io.containerd.cgroups.v1/.v2 Metrics (the Stats answer).
"""

TASK_SERVICE = "containerd.task.v2.Task"
EVENTS_SERVICE = "containerd.services.events.ttrpc.v1.Events"
