"""cgroup v1: one module per controller (``apply`` writes resources, ``stats`` reads them)."""
