"""OCI lifecycle hooks: each runs with the container state JSON on stdin, its own args and env,
and an optional timeout. The caller decides what a failure means (prestart, createRuntime,
createContainer, startContainer abort the container; poststart and poststop only warn)."""

from __future__ import annotations

from pyrunc import jsonio
from pyrunc.errors import HookError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pyrunc.spec.model import Hook


def run_hooks(kind: str, hooks: list[Hook] | None, state: dict) -> None:
    if not hooks:
        return
    payload = jsonio.dumps(state).encode()
    for index, hook in enumerate(hooks):
        run_hook(kind, index, hook, payload)


def run_hook(kind: str, index: int, hook: Hook, payload: bytes) -> None:
    import subprocess  # only paid for when a config has hooks

    path = hook.path
    args = hook.args or [path]
    env = {}
    for item in hook.env or ():
        key, _, value = item.partition("=")
        env[key] = value
    timeout = hook.timeout  # 1..HOOK_TIMEOUT_MAX seconds: fits poll(2)'s millisecond int
    what = f"{kind} hook #{index} ({path})"
    try:
        # Its own process group, so a timeout ends whatever the hook started too.
        proc = subprocess.Popen(args, executable=path, env=env, stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                close_fds=True, cwd="/", process_group=0)
    except OSError as err:
        raise HookError(f"{what}: {err.strerror}") from None
    try:
        out, errout = proc.communicate(payload, timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_group(proc.pid)
        proc.wait()
        raise HookError(f"{what}: timed out after {timeout}s") from None
    except BrokenPipeError:
        out, errout = proc.communicate()
    if proc.returncode != 0:
        detail = (errout or out).decode(errors="replace").strip()
        status = (f"exit status {proc.returncode}" if proc.returncode > 0
                  else f"killed by signal {-proc.returncode}")
        raise HookError(f"{what}: {status}" + (f", stderr: {detail}" if detail else ""))


def _kill_group(pgid: int) -> None:
    """SIGKILL the hook's process group (the hook is its leader, not yet reaped, so the id
    cannot have been reused)."""
    import os

    try:
        os.killpg(pgid, 9)  # SIGKILL; no `signal` import on this path
    except ProcessLookupError:
        pass


def run_hooks_warn(kind: str, hooks: list[Hook] | None, state: dict) -> None:
    """poststart/poststop semantics: a failing hook is a warning and the rest still run."""
    if not hooks:
        return
    from pyrunc import log

    payload = jsonio.dumps(state).encode()
    for index, hook in enumerate(hooks):
        try:
            run_hook(kind, index, hook, payload)
        except HookError as err:
            log.warning(str(err))
