"""The REST edge's image pieces without a daemon: registry credentials from the headers,
docker's JSON progress messages, and the legacy builder's stream rendered from build events."""

from __future__ import annotations

import base64
import json

from aiohttp.test_utils import make_mocked_request
from pyengine.build.options import BuildResultValue, StepDone, StepOutput, StepStarted
from pyengine.build.stream import BuildFailed, BuildItem
from pyengine.dockerapi.classic_build import ClassicBuildView
from pyengine.dockerapi.progress_json import aux_message, progress_message
from pyengine.dockerapi.registry_auth import registry_auth, registry_config
from pyengine.images.service import RegistryAuth, matches_reference
from pyengine.progress import Report


def b64(doc: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(doc).encode()).decode().rstrip("=")


def test_registry_auth_and_config_headers() -> None:
    request = make_mocked_request("POST", "/images/create", headers={
        "X-Registry-Auth": b64({"username": "u", "password": "p", "serveraddress": "r:5000"})})
    assert registry_auth(request) == RegistryAuth("r:5000", "u", "p")
    for header in ("", "e30=", "%%%"):  # none, {}, unreadable: no credentials (dockerd too)
        request = make_mocked_request("POST", "/x", headers={"X-Registry-Auth": header})
        assert registry_auth(request) is None
    request = make_mocked_request("POST", "/build", headers={"X-Registry-Config": b64({
        "a.example:5000": {"username": "ua", "password": "pa"},
        "b.example": {"identitytoken": "tok"}, "c.example": {}})})
    assert registry_config(request) == (RegistryAuth("a.example:5000", "ua", "pa"),
                                        RegistryAuth("b.example", "", "", "tok"))


def test_progress_messages_in_dockers_shape() -> None:
    assert progress_message(Report("", "1: Pulling from t/box")) == {
        "status": "Pulling from t/box", "id": "1"}
    assert progress_message(Report("d86c8e2b7342", "Pull complete")) == {
        "status": "Pull complete", "progressDetail": {}, "id": "d86c8e2b7342"}
    got = progress_message(Report("d86c8e2b7342", "Downloading", 32768, 1069185))
    assert got["progressDetail"] == {"current": 32768, "total": 1069185}
    # as dockerd 20.10 sent it for these numbers
    assert got["progress"] == "[=>" + " " * 49 + "]  32.77kB/1.069MB"
    over = progress_message(Report("800709090ef2", "Pushing", 2140160, 1986657))
    assert over["progress"] == "[" + "=" * 50 + ">]   2.14MB"
    assert aux_message(Report("", "1: digest: sha256:ab size: 527")) == {
        "progressDetail": {}, "aux": {"Tag": "1", "Digest": "sha256:ab", "Size": 527}}
    assert aux_message(Report("", "Digest: sha256:ab")) is None


def test_reference_filter_on_familiar_names() -> None:
    assert matches_reference("busybox", "busybox:latest")
    assert matches_reference("busybox:lat*", "busybox:latest")
    assert not matches_reference("busybox:1", "busybox:latest")
    assert matches_reference("*/team/*", "example.org/team/tool:v1")
    assert matches_reference("busybox", "busybox@sha256:ab")


def streams(view: ClassicBuildView, *items: BuildItem) -> list[str]:
    out: list[str] = []
    for item in items:
        out += [m.get("stream", json.dumps(m)) for m in view.render(item)]
    return out


def test_classic_build_stream() -> None:
    view = ClassicBuildView()
    lines = streams(
        view,
        StepStarted(1, 3, "0", 1, 3, "FROM busybox"),
        StepDone(1, False, 1, "sha256:" + "c" * 64),
        StepStarted(2, 3, "0", 2, 3, "RUN echo hi", "f" * 64),
        StepOutput(2, 1, b"h\xc3"), StepOutput(2, 1, b"\xa9\n"),
        StepDone(2, False, 1, "sha256:" + "a" * 64),
        StepStarted(3, 3, "0", 3, 3, "ENV A=b"),
        StepDone(3, True, 1, ""),
        BuildResultValue("sha256:" + "e" * 64, ("docker.io/library/x:latest",)),
    )
    derived = lines[-4].removeprefix(" ---> ").strip()
    assert lines == [
        "Step 1/3 : FROM busybox", "\n", f" ---> {'c' * 12}\n",
        "Step 2/3 : RUN echo hi", "\n", f" ---> Running in {'f' * 12}\n", "h", "é\n",
        f"Removing intermediate container {'f' * 12}\n", f" ---> {'a' * 12}\n",
        "Step 3/3 : ENV A=b", "\n", " ---> Using cache\n", f" ---> {derived}\n",
        json.dumps({"aux": {"ID": "sha256:" + "e" * 64}}),
        f"Successfully built {'e' * 12}\n", "Successfully tagged x:latest\n",
    ]
    assert len(derived) == 12 and derived != "a" * 12
    failed = BuildFailed(2, "The command '/bin/sh -c exit 5' returned a non-zero code: 5", 5,
                         RuntimeError())
    assert ClassicBuildView().render(failed) == [{
        "errorDetail": {"code": 5, "message": failed.message}, "error": failed.message}]


def test_classic_build_stderr_is_red_per_write() -> None:
    """dockerd's classic builder wraps each write of a RUN's stderr in red (docker-py's
    test_build_stderr_data looks for that), stdout as is; each stream decoded on its own."""
    view = ClassicBuildView()
    lines = streams(
        view,
        StepStarted(1, 1, "0", 1, 1, "RUN x", "f" * 64),
        StepOutput(1, 2, b"oops\n"), StepOutput(1, 1, b"ok \xc3"), StepOutput(1, 2, b"\xc3"),
        StepOutput(1, 1, b"\xa9\n"), StepOutput(1, 2, b"\xa9\n"),
        StepDone(1, False, 1, "sha256:" + "a" * 64),
    )
    assert lines[3:7] == ["\033[91moops\n\033[0m", "ok ", "é\n", "\033[91mé\n\033[0m"]
