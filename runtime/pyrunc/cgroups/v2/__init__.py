"""cgroup v2: one module per resource writer, plus the eBPF device program."""
