"""Flags shared by several verbs."""

from __future__ import annotations

from pyrunc.cli.args import BOOL, INT, VALUE, Flag

CREATE_FLAGS = [
    Flag("bundle,b", VALUE, "", help="path to the root of the bundle directory, defaults to "
                                     "the current directory"),
    Flag("console-socket", VALUE, help="path to an AF_UNIX socket which will receive a file "
                                       "descriptor referencing the master end of the console's "
                                       "pseudoterminal"),
    Flag("pid-file", VALUE, help="specify the file to write the process id to"),
    Flag("no-pivot", BOOL, help="do not use pivot root to jail process inside rootfs"),
    Flag("no-new-keyring", BOOL, help="do not create a new session keyring for the container"),
    Flag("preserve-fds", INT, 0, help="pass N additional file descriptors to the container "
                                      "(stdio + $LISTEN_FDS + N in total)"),
]


def check_cgroup_driver(ctx: object) -> None:
    from pyrunc.errors import NotSupported

    if getattr(ctx, "systemd_cgroup", False):
        raise NotSupported("the systemd cgroup driver is not supported by pyrunc; "
                           "use the cgroupfs driver (drop --systemd-cgroup)")
