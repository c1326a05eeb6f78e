"""docker's exec: POST /containers/{id}/exec (create: a record, containers/exec_records.py),
POST /exec/{id}/start (Detach; else the session over the hijacked connection, as attach's),
GET /exec/{id}/json (docker's ExecInspect), POST /exec/{id}/resize.

As dockerd, start takes the connection over first and then starts the process: a failure to
start is written on the stream as text (docker's "... \\r\\n") and the exec's exit code
(126/127) tells the client, which inspects it."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from pyengine.containers import attach as sessions
from pyengine.containers import detachkeys
from pyengine.containers.exec_records import ExecConfig, ExecRecord
from pyengine.dockerapi import hijack, stdcopy
from pyengine.dockerapi.app import json_response
from pyengine.dockerapi.attach import run_session
from pyengine.dockerapi.body import go_fields, json_body
from pyengine.dockerapi.context import ApiContext
from pyengine.dockerapi.query import integer
from pyengine.dockerapi.routes import Routes
from pyengine.errors import EngineError, InvalidArgument


def _strings(body: dict[str, Any], key: str) -> list[str]:
    value = body.get(key) or []
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InvalidArgument(f"invalid JSON: {key} must be a list of strings")
    return value


EXEC_FIELDS = ("User", "Privileged", "Tty", "AttachStdin", "AttachStderr", "AttachStdout",
               "Detach", "DetachKeys", "Env", "WorkingDir", "Cmd")  # docker's ExecConfig


def exec_config(body: dict[str, Any]) -> ExecConfig:
    body = go_fields(body, EXEC_FIELDS)
    keys = str(body.get("DetachKeys") or "")
    detachkeys.parse(keys)  # docker refuses bad keys at create
    return ExecConfig(
        args=_strings(body, "Cmd"), env=_strings(body, "Env"),
        workdir=str(body.get("WorkingDir") or ""), user=str(body.get("User") or ""),
        tty=bool(body.get("Tty")), attach_stdin=bool(body.get("AttachStdin")),
        attach_stdout=bool(body.get("AttachStdout")),
        attach_stderr=bool(body.get("AttachStderr")), detach_keys=keys,
        privileged=bool(body.get("Privileged")))


def inspect_json(r: ExecRecord) -> dict[str, Any]:
    """docker's ExecInspect."""
    cfg = r.config
    return {
        "ID": r.id, "Running": r.running, "ExitCode": r.exit_code, "ProcessConfig": {
            "tty": cfg.tty, "entrypoint": cfg.args[0], "arguments": cfg.args[1:],
            "privileged": cfg.privileged, "user": cfg.user},
        "OpenStdin": cfg.attach_stdin, "OpenStderr": cfg.attach_stderr,
        "OpenStdout": cfg.attach_stdout, "CanRemove": False, "ContainerID": r.container_id,
        "DetachKeys": cfg.detach_keys, "Pid": r.pid}


def register(routes: Routes, api: ApiContext) -> None:
    async def create(request: web.Request) -> web.StreamResponse:
        config = exec_config(await json_body(request))
        record = await api.engine.containers.exec_create(request.match_info["id"], config)
        return json_response({"Id": record.id}, status=201)

    async def start(request: web.Request) -> web.StreamResponse:
        body = await json_body(request)
        record = api.engine.containers.exec_record(request.match_info["id"])
        if body.get("Detach"):
            await api.engine.containers.exec_start_record(record.id, detach=True)
            return web.Response(status=200)
        tty = bool(body.get("Tty"))
        conn, response = await hijack.hijack(request)
        try:
            _, proc, subscriber = await api.engine.containers.exec_start_record(record.id)
        except EngineError as err:
            await conn.write(stdcopy.encode("stdout", f"{err}\r\n".encode(), tty))
            return response
        if subscriber is None:
            return response
        cfg = record.config
        keys = detachkeys.parse(cfg.detach_keys)
        # as attach: EOF closes the exec's stdin without a terminal, else ends the session
        options = sessions.Options(stdin=cfg.attach_stdin, stdin_once=not cfg.tty,
                                   end_with_input=True, detach_keys=keys if cfg.tty else None)
        wanted = {s for s, on in (("stdout", cfg.attach_stdout),
                                  ("stderr", cfg.attach_stderr)) if on}
        await run_session(conn, proc, subscriber, options, tty, wanted)
        return response

    async def inspect(request: web.Request) -> web.StreamResponse:
        record = api.engine.containers.exec_record(request.match_info["id"])
        return json_response(inspect_json(record))

    async def resize(request: web.Request) -> web.StreamResponse:
        height, width = integer(request, "h"), integer(request, "w")
        await api.engine.containers.exec_resize(request.match_info["id"], height, width)
        return web.Response(status=200)

    routes.post("/containers/{id}/exec", create)
    routes.post("/exec/{id}/start", start)
    routes.get("/exec/{id}/json", inspect)
    routes.post("/exec/{id}/resize", resize)
