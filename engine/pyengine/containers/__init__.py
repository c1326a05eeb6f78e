"""The containers domain: records, names, the repository, the lifecycle service, the shims
it runs containers through (containerd's runtime v2 contract), the events endpoint shims
report to, and json-file logs."""
