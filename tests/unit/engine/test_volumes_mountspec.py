"""-v, --mount, --tmpfs and --volumes-from parsed with docker 20.10's rules and error texts."""

from __future__ import annotations

from pathlib import Path

import pytest
from pyengine.errors import InvalidArgument
from pyengine.volumes import mountspec
from pyengine.volumes.mountspec import MountSpec


def error_of(fn: object, raw: str) -> str:
    with pytest.raises(InvalidArgument) as info:
        fn(raw)  # type: ignore[operator]  # one of mountspec's parse functions
    return str(info.value)


def test_volume_flag_forms() -> None:
    assert mountspec.parse_volume("/data") == MountSpec(type="volume", target="/data")
    assert mountspec.parse_volume("v1:/data").mode == "z"  # docker's mode of a named volume
    named = mountspec.parse_volume("v1:/data:ro,nocopy")
    assert (named.type, named.source, named.target, named.read_only, named.nocopy,
            named.mode) == ("volume", "v1", "/data", True, True, "ro,nocopy")
    bind = mountspec.parse_volume("/host/dir/:/ctr/:z")
    assert (bind.type, bind.source, bind.target, bind.read_only, bind.propagation,
            bind.create_source) == ("bind", "/host/dir", "/ctr", False, "rprivate", True)
    assert mountspec.parse_volume("/h:/c:ro,rshared").propagation == "rshared"


@pytest.mark.parametrize(("raw", "message"), [
    ("", "invalid volume specification: ''"),
    ("/data:rw", "invalid volume specification: '/data:rw'"),
    ("a:/b:c:d", "invalid volume specification: 'a:/b:c:d'"),
    ("v:/data:bogus", "invalid mode: bogus"),
    ("v:/data:ro,rw", "invalid mode: ro,rw"),
    ("v:data", "invalid volume specification: 'v:data': invalid mount config for type "
               "\"volume\": invalid mount path: 'data' mount path must be absolute"),
    ("/h:/", "invalid volume specification: '/h:/': invalid mount config for type \"bind\": "
             "invalid specification: destination can't be '/'"),
    ("v:/d:shared", "invalid volume specification: 'v:/d:shared': invalid mount config for "
                    "type \"volume\": field BindOptions must not be specified"),
    ("/h:/d:nocopy", "invalid volume specification: '/h:/d:nocopy': invalid mount config for "
                     "type \"bind\": field VolumeOptions must not be specified"),
])
def test_volume_flag_errors(raw: str, message: str) -> None:
    assert error_of(mountspec.parse_volume, raw) == message


def test_mount_flag_forms(tmp_path: Path) -> None:
    bind = mountspec.parse_mount(f"type=bind,src={tmp_path},dst=/x,readonly,"
                                 "bind-propagation=rslave")
    assert (bind.type, bind.source, bind.target, bind.read_only, bind.propagation) == \
        ("bind", str(tmp_path), "/x", True, "rslave")
    vol = mountspec.parse_mount("source=v1,target=/d,volume-nocopy,volume-opt=type=tmpfs,"
                                "volume-opt=device=tmpfs,volume-label=a=b")
    assert (vol.type, vol.source, vol.nocopy, vol.volume_options, vol.volume_labels) == \
        ("volume", "v1", True, (("device", "tmpfs"), ("type", "tmpfs")), (("a", "b"),))
    tmpfs = mountspec.parse_mount("type=tmpfs,destination=/t,tmpfs-size=64m,tmpfs-mode=1770")
    assert tmpfs.tmpfs_options == ("mode=1770", "size=64m")
    assert mountspec.parse_mount('"type=volume","target=/a,b"').target == "/a,b"


@pytest.mark.parametrize(("raw", "message"), [
    ("type=bind", 'invalid argument "type=bind" for "--mount" flag: target is required'),
    ("type=bind,dst=/x,bogus", 'invalid argument "type=bind,dst=/x,bogus" for "--mount" '
                               "flag: invalid field 'bogus' must be a key=value pair"),
    ("dst=/x,colour=red", 'invalid argument "dst=/x,colour=red" for "--mount" flag: '
                          "unexpected key 'colour' in 'colour=red'"),
    ("dst=/x,ro=maybe", 'invalid argument "dst=/x,ro=maybe" for "--mount" flag: invalid '
                        "value for ro: maybe"),
    ("type=bind,src=/,dst=/x,volume-nocopy", 'invalid argument "type=bind,src=/,dst=/x,'
     "volume-nocopy\" for \"--mount\" flag: cannot mix 'volume-*' options with mount type "
     "'bind'"),
    ("type=volume,dst=/x,tmpfs-size=1m", 'invalid argument "type=volume,dst=/x,tmpfs-size=1m" '
     "for \"--mount\" flag: cannot mix 'tmpfs-*' options with mount type 'volume'"),
    ("type=tmpfs,dst=/x,tmpfs-size=lots", 'invalid argument "type=tmpfs,dst=/x,'
     'tmpfs-size=lots" for "--mount" flag: invalid value for tmpfs-size: lots'),
    ("type=bind,dst=/x", 'invalid mount config for type "bind": field Source must not be '
                         "empty"),
    ("type=bind,src=/nonexistent-volumes-test,dst=/x", 'invalid mount config for type "bind": '
     "bind source path does not exist: /nonexistent-volumes-test"),
    ("type=bind,src=rel,dst=/x", 'invalid mount config for type "bind": invalid mount path: '
                                 "'rel' mount path must be absolute"),
    ("type=bind,src=/,dst=/x,bind-propagation=sideways", 'invalid mount config for type '
     '"bind": invalid propagation mode: sideways'),
    ("type=volume,dst=x", "invalid mount config for type \"volume\": invalid mount path: 'x' "
                          "mount path must be absolute"),
    ("type=volume,dst=/", 'invalid mount config for type "volume": invalid specification: '
                          "destination can't be '/'"),
    ("type=volume,dst=/x,ro", 'invalid mount config for type "volume": must not set ReadOnly '
                              "mode when using anonymous volumes"),
    ("type=tmpfs,src=a,dst=/x", 'invalid mount config for type "tmpfs": field Source must not '
                                "be specified"),
    ("type=floppy,dst=/x", 'invalid mount config for type "floppy": mount type unknown'),
])
def test_mount_flag_errors(raw: str, message: str) -> None:
    assert error_of(mountspec.parse_mount, raw) == message


def test_tmpfs_flag_and_options() -> None:
    spec = mountspec.parse_tmpfs("/run:rw,size=64m,exec")
    assert (spec.type, spec.target, spec.tmpfs_options) == ("tmpfs", "/run",
                                                          ("rw", "size=64m", "exec"))
    assert mountspec.tmpfs_mount_options(spec.tmpfs_options) == \
        ["nosuid", "nodev", "rw", "size=64m", "exec"]
    assert error_of(mountspec.parse_tmpfs, "run") == \
        "invalid mount path: 'run' mount path must be absolute"
    assert error_of(mountspec.parse_tmpfs, "/") == \
        "invalid specification: destination can't be '/'"


def test_volumes_from_and_duplicates() -> None:
    assert mountspec.parse_volumes_from("data") == ("data", "")
    assert mountspec.parse_volumes_from("data:ro") == ("data", "ro")
    assert error_of(mountspec.parse_volumes_from, "data:rshared") == "invalid mode: rshared"
    assert error_of(mountspec.parse_volumes_from, "data:nocopy") == "invalid mode: nocopy"
    assert error_of(mountspec.parse_volumes_from, "") == \
        "volumes-from specification cannot be an empty string"
    specs = [mountspec.parse_volume("v:/data"), mountspec.parse_tmpfs("/data/")]
    with pytest.raises(InvalidArgument, match=r"^Duplicate mount point: /data$"):
        mountspec.check_duplicates(specs)
