"""docker's create body (Config, HostConfig, NetworkingConfig) -> the domain's `Spec`.

Every field the engine implements is translated; a field it does not implement that the
client set (a non-empty, non-default value) is refused with a 400 when ignoring it would run
the container differently from what was asked (privileges, devices, namespaces), and becomes
one of the response's Warnings otherwise (tuning the engine does not do: swappiness, OOM
score, ...). Fields the clients always send with their zero value pass silently.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pyengine.containers.create_checks import check_log_driver
from pyengine.containers.model import Spec
from pyengine.errors import InvalidArgument

# HostConfig fields whose effect the engine cannot give: refused when set
REFUSED_HOST = ("DeviceRequests", "UsernsMode", "CgroupParent", "Isolation", "MaskedPaths",
                "ReadonlyPaths", "Cgroup", "StorageOpt")
# HostConfig fields that only tune: a warning when set
WARNED_HOST = ("BlkioWeight", "BlkioWeightDevice", "BlkioDeviceReadBps", "BlkioDeviceWriteBps",
               "BlkioDeviceReadIOps", "BlkioDeviceWriteIOps", "CpuRealtimePeriod",
               "CpuRealtimeRuntime", "CpusetMems", "MemoryReservation", "KernelMemory",
               "KernelMemoryTCP", "MemorySwappiness", "OomKillDisable", "CpuCount",
               "CpuPercent", "IOMaximumIOps", "IOMaximumBandwidth", "ContainerIDFile")
REFUSED_CONFIG = ("Shell", "OnBuild")
LOG_OPTIONS = ("max-size", "max-file")
DEFAULT_NETWORK_MODES = ("", "default")
# Spec attribute <- HostConfig key, for the string lists and the numbers taken as they are
HOST_LISTS = (("dns", "Dns"), ("dns_search", "DnsSearch"), ("dns_options", "DnsOptions"),
              ("add_hosts", "ExtraHosts"), ("links", "Links"))
# Spec attribute <- HostConfig key, for the strings taken as they are
HOST_MODES = (("pid_mode", "PidMode"), ("ipc_mode", "IpcMode"), ("uts_mode", "UTSMode"),
              ("cgroupns_mode", "CgroupnsMode"), ("volume_driver", "VolumeDriver"))
HOST_NUMBERS = (("memory", "Memory"), ("memory_swap", "MemorySwap"), ("nano_cpus", "NanoCpus"),
                ("cpu_shares", "CpuShares"), ("cpu_quota", "CpuQuota"),
                ("cpu_period", "CpuPeriod"), ("pids_limit", "PidsLimit"))


@dataclass
class CreateRequest:
    spec: Spec
    warnings: list[str] = field(default_factory=list)


def _set(value: Any) -> bool:
    """A value a client really set (docker's zero values: false, 0, "", [], {}, null)."""
    if isinstance(value, Mapping):
        return any(_set(v) for v in value.values())
    if isinstance(value, list):
        return bool(value)
    return bool(value)


def _strings(value: Any, what: str) -> list[str]:
    """docker's strslice: a string or a list of strings (null: none)."""
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return list(value)
    raise InvalidArgument(f"json: cannot unmarshal {type(value).__name__} into Go struct "
                          f"field {what} of type strslice.StrSlice")


def _int(value: Any, what: str) -> int:
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidArgument(f"json: cannot unmarshal {type(value).__name__} into Go struct "
                              f"field {what} of type int64")
    return value


def _string(value: Any, what: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise InvalidArgument(f"json: cannot unmarshal {type(value).__name__} into Go struct "
                              f"field {what} of type string")
    return value


def _dict(value: Any, what: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InvalidArgument(f"json: cannot unmarshal {type(value).__name__} into Go value "
                              f"of type {what}")
    return value


def publish_specs(bindings: Mapping[str, Any]) -> list[str]:
    """HostConfig.PortBindings {"80/tcp": [{"HostIp": "", "HostPort": "8080"}]} as -p values
    ("8080:80/tcp"; no HostPort: an ephemeral port)."""
    out = []
    for port, hosts in bindings.items():
        number, _, proto = port.partition("/")
        key = f"{number}/{proto or 'tcp'}"
        for host in hosts or [{}]:
            ip = (host or {}).get("HostIp") or ""
            hport = (host or {}).get("HostPort") or ""
            if ip:
                out.append(f"{ip}:{hport}:{key}")
            elif hport:
                out.append(f"{hport}:{key}")
            else:
                out.append(key)
    return out


def mount_spec(m: Mapping[str, Any]) -> str:
    """One HostConfig.Mounts entry as a --mount csv value (volumes/mountspec.py parses it)."""
    kind = m.get("Type") or ""
    parts = [f"type={kind}"]
    if m.get("Source"):
        parts.append(f"source={m['Source']}")
    if not m.get("Target"):
        raise InvalidArgument("invalid mount config: Target must not be empty")
    parts.append(f"target={m['Target']}")
    if m.get("ReadOnly"):
        parts.append("readonly")
    bind = m.get("BindOptions") or {}
    if bind.get("Propagation"):
        parts.append(f"bind-propagation={bind['Propagation']}")
    volume = m.get("VolumeOptions") or {}
    if volume.get("NoCopy"):
        parts.append("volume-nocopy")
    for key, value in (volume.get("Labels") or {}).items():
        parts.append(f"volume-label={key}={value}")
    driver = volume.get("DriverConfig") or {}
    if driver.get("Name"):
        parts.append(f"volume-driver={driver['Name']}")
    for key, value in (driver.get("Options") or {}).items():
        parts.append(f"volume-opt={key}={value}")
    tmpfs = m.get("TmpfsOptions") or {}
    if tmpfs.get("SizeBytes"):
        parts.append(f"tmpfs-size={tmpfs['SizeBytes']}")
    if tmpfs.get("Mode"):
        parts.append(f"tmpfs-mode={tmpfs['Mode']:o}")
    return ",".join(parts)


def _bind_destination(bind: str) -> str:
    """The container path of a -v value ("src:dst[:mode]" or "dst")."""
    parts = bind.split(":")
    return (parts[1] if len(parts) > 1 else parts[0]).rstrip("/") or "/"


def restart_text(policy: Mapping[str, Any]) -> str:
    """RestartPolicy {"Name": "on-failure", "MaximumRetryCount": 3} -> "on-failure:3"."""
    name = policy.get("Name") or "no"
    retries = _int(policy.get("MaximumRetryCount"), "HostConfig.RestartPolicy."
                   "MaximumRetryCount")
    return f"{name}:{retries}" if retries else name


def _log_options(config: Mapping[str, Any]) -> tuple[int, int]:
    kind = config.get("Type") or ""
    check_log_driver(kind)  # before its options, as dockerd
    options = _dict(config.get("Config"), "map[string]string")
    if kind == "none":
        return 0, 1  # dockerd checks no option of the none driver
    for key in options:
        if key not in LOG_OPTIONS:
            raise InvalidArgument(f"unknown log opt '{key}' for json-file log driver")
    size, files = 0, 1
    if options.get("max-size"):
        from pyengine.units import ram_in_bytes

        try:
            size = ram_in_bytes(str(options["max-size"]))
        except ValueError as err:
            raise InvalidArgument(str(err)) from None
    if options.get("max-file"):
        text = str(options["max-file"])
        if not text.isdigit():
            raise InvalidArgument(f'strconv.Atoi: parsing "{text}": invalid syntax')
        files = int(text)
        if files < 1:
            raise InvalidArgument("max-file cannot be less than 1")
    return size, files


def _health(check: Mapping[str, Any], spec: Spec) -> None:
    test = _strings(check.get("Test"), "Config.Healthcheck.Test")
    if test[:1] == ["NONE"]:
        spec.no_healthcheck = True
    elif test:
        spec.health_cmd = test
    spec.health_interval_ns = _int(check.get("Interval"), "Config.Healthcheck.Interval")
    spec.health_timeout_ns = _int(check.get("Timeout"), "Config.Healthcheck.Timeout")
    spec.health_start_period_ns = _int(check.get("StartPeriod"),
                                       "Config.Healthcheck.StartPeriod")
    spec.health_retries = _int(check.get("Retries"), "Config.Healthcheck.Retries")


def _privileges(host: Mapping[str, Any], spec: Spec) -> None:
    """Privileged, capabilities, security options, devices and kernel options (checked by
    the domain at create: containers/secopts.py)."""
    spec.privileged = bool(host.get("Privileged"))
    spec.cap_add = _strings(host.get("CapAdd"), "HostConfig.CapAdd")
    spec.cap_drop = _strings(host.get("CapDrop"), "HostConfig.CapDrop")
    spec.security_opt = _strings(host.get("SecurityOpt"), "HostConfig.SecurityOpt")
    for device in host.get("Devices") or []:
        device = _dict(device, "container.DeviceMapping")
        path = str(device.get("PathOnHost") or "")
        spec.devices.append(f"{path}:{device.get('PathInContainer') or path}:"
                            f"{device.get('CgroupPermissions') or 'rwm'}")
    spec.sysctls = {str(k): str(v) for k, v in _dict(host.get("Sysctls"),
                                                      "map[string]string").items()}
    for ulimit in host.get("Ulimits") or []:
        ulimit = _dict(ulimit, "units.Ulimit")
        spec.ulimits.append(f"{ulimit.get('Name') or ''}="
                            f"{_int(ulimit.get('Soft'), 'HostConfig.Ulimits.Soft')}:"
                            f"{_int(ulimit.get('Hard'), 'HostConfig.Ulimits.Hard')}")
    spec.shm_size = _int(host.get("ShmSize"), "HostConfig.ShmSize")
    spec.oom_score_adj = _int(host.get("OomScoreAdj"), "HostConfig.OomScoreAdj")


def _network(host: Mapping[str, Any], networking: Mapping[str, Any], spec: Spec) -> None:
    mode = host.get("NetworkMode") or ""
    spec.network = "" if mode in DEFAULT_NETWORK_MODES else mode
    endpoints = _dict(networking.get("EndpointsConfig"), "map[string]*network.EndpointSettings")
    if len(endpoints) > 1:  # docker 20.10 (API 1.41): one network at create
        raise InvalidArgument("Container cannot be connected to network endpoints: "
                              + ", ".join(endpoints))
    for name, endpoint in endpoints.items():
        endpoint = endpoint or {}
        if spec.network and name != spec.network:
            raise InvalidArgument(f"Container cannot be connected to network endpoints: "
                                  f"{name}")  # the mode names another network
        if not spec.network and name not in ("bridge", "default"):
            spec.network = name
        ipam = endpoint.get("IPAMConfig") or {}
        spec.ip = ipam.get("IPv4Address") or ""
        spec.ip6 = ipam.get("IPv6Address") or ""
        spec.link_local_ips = _strings(ipam.get("LinkLocalIPs"), "LinkLocalIPs")
        spec.endpoint_options = {str(k): str(v) for k, v in _dict(
            endpoint.get("DriverOpts"), "map[string]string").items()}
        spec.network_aliases = _strings(endpoint.get("Aliases"), "Aliases")
        spec.endpoint_links = _strings(endpoint.get("Links"), "Links")
        if endpoint.get("MacAddress"):
            spec.mac_address = endpoint["MacAddress"]


def _refusals(host: Mapping[str, Any], config: Mapping[str, Any], out: CreateRequest) -> None:
    for key in REFUSED_HOST:
        value = host.get(key)
        if key == "Isolation" and value == "default":
            continue  # the one isolation docker has on Linux, named
        if _set(value):
            raise InvalidArgument(f"pyengined does not support HostConfig.{key} "
                                  f"(set to {value!r})")
    for key in REFUSED_CONFIG:
        if _set(config.get(key)):
            raise InvalidArgument(f"pyengined does not support Config.{key} on create")
    for key in dict.fromkeys(WARNED_HOST):
        value = host.get(key)
        if key == "MemorySwappiness" and value in (None, -1):
            continue
        if _set(value):
            out.warnings.append(f"pyengined does not support HostConfig.{key}: it was ignored")


def from_body(body: Mapping[str, Any]) -> CreateRequest:
    """The create body (docker's container.Config with HostConfig and NetworkingConfig in it)
    as the domain's Spec and docker's Warnings; InvalidArgument with docker's texts."""
    host = _dict(body.get("HostConfig"), "container.HostConfig")
    networking = _dict(body.get("NetworkingConfig"), "network.NetworkingConfig")
    image = body.get("Image") or ""
    if not isinstance(image, str) or not image:
        raise InvalidArgument("Config cannot be empty in order to create a container")
    out = CreateRequest(Spec(image=image))
    _refusals(host, body, out)
    spec = out.spec
    cmd = _strings(body.get("Cmd"), "Config.Cmd")
    spec.cmd = cmd or None
    if body.get("Entrypoint") is not None:
        entry = _strings(body.get("Entrypoint"), "Config.Entrypoint")
        spec.entrypoint = [] if entry == [""] else entry
    spec.env = _strings(body.get("Env"), "Config.Env")
    spec.workdir = body.get("WorkingDir") or ""
    spec.user = body.get("User") or ""
    spec.hostname = body.get("Hostname") or ""
    if body.get("Domainname"):
        out.warnings.append("pyengined does not support Config.Domainname: it was ignored")
    spec.labels = {str(k): str(v) for k, v in _dict(body.get("Labels"),
                                                      "map[string]string").items()}
    spec.tty = bool(body.get("Tty"))
    spec.open_stdin = bool(body.get("OpenStdin"))
    spec.stdin_once = bool(body.get("StdinOnce"))
    spec.attach_stdin = bool(body.get("AttachStdin"))
    spec.attach_stdout = bool(body.get("AttachStdout"))
    spec.attach_stderr = bool(body.get("AttachStderr"))
    spec.expose = list(_dict(body.get("ExposedPorts"), "nat.PortSet"))
    spec.stop_signal = body.get("StopSignal") or ""
    if body.get("StopTimeout") is not None:
        spec.stop_timeout = _int(body.get("StopTimeout"), "Config.StopTimeout")
    if body.get("MacAddress"):
        spec.mac_address = body["MacAddress"]
    if body.get("Healthcheck"):
        _health(_dict(body.get("Healthcheck"), "container.HealthConfig"), spec)
    # mounts: anonymous volumes (Config.Volumes), -v, --mount, --tmpfs, --volumes-from
    binds = _strings(host.get("Binds"), "HostConfig.Binds")
    mounts = host.get("Mounts") or []
    tmpfs = _dict(host.get("Tmpfs"), "map[string]string")
    # Config.Volumes: anonymous volumes, but where a bind, mount or tmpfs has the same
    # destination that one is it (docker-compose sends both for its binds)
    taken = {_bind_destination(b) for b in binds} | {m.get("Target") for m in mounts} | \
        set(tmpfs)
    spec.binds = [*binds, *(path for path in _dict(body.get("Volumes"), "map[string]struct {}")
                            if path.rstrip("/") not in taken and path not in taken)]
    spec.mounts = [mount_spec(m) for m in mounts]
    spec.tmpfs = [f"{path}:{opts}" if opts else path for path, opts in tmpfs.items()]
    spec.volumes_from = _strings(host.get("VolumesFrom"), "HostConfig.VolumesFrom")
    # network
    spec.publish = publish_specs(_dict(host.get("PortBindings"), "nat.PortMap"))
    spec.publish_all = bool(host.get("PublishAllPorts"))
    for attr, key in HOST_LISTS:
        setattr(spec, attr, _strings(host.get(key), f"HostConfig.{key}"))
    _network(host, networking, spec)
    if body.get("NetworkDisabled"):
        spec.network = "none"
    # the process and its resources
    spec.restart = restart_text(_dict(host.get("RestartPolicy"), "container.RestartPolicy"))
    spec.auto_remove = bool(host.get("AutoRemove"))
    for attr, key in HOST_NUMBERS:
        setattr(spec, attr, _int(host.get(key), f"HostConfig.{key}"))
    spec.cpuset_cpus = host.get("CpusetCpus") or ""
    spec.read_only = bool(host.get("ReadonlyRootfs"))
    spec.init = bool(host.get("Init"))
    _privileges(host, spec)
    spec.runtime = host.get("Runtime") or ""
    spec.isolation = str(host.get("Isolation") or "")
    for attr, key in HOST_MODES:
        setattr(spec, attr, _string(host.get(key), f"HostConfig.{key}"))
    spec.group_add = _strings(host.get("GroupAdd"), "HostConfig.GroupAdd")
    spec.device_cgroup_rules = _strings(host.get("DeviceCgroupRules"),
                                        "HostConfig.DeviceCgroupRules")
    log_config = _dict(host.get("LogConfig"), "container.LogConfig")
    spec.log_max_size, spec.log_max_file = _log_options(log_config)
    spec.log_driver = str(log_config.get("Type") or "")
    spec.log_options = {str(k): str(v) for k, v in
                        _dict(log_config.get("Config"), "map[string]string").items()}
    return out
