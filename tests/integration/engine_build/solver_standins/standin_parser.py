"""TEST-ONLY stand-in for build/dockerfile/parser.py: one instruction a line, the few forms
the solver's tests use (FROM [AS], RUN, COPY [--from], ENV k=v, ARG, WORKDIR, CMD,
ENTRYPOINT, LABEL k=v, EXPOSE, USER)."""

from __future__ import annotations

import json

from pyengine.build.dockerfile import instructions as ins
from pyengine.build.errors import DockerfileError


def _command(rest: str) -> ins.Command:
    if rest.startswith("["):
        return ins.Command(True, tuple(json.loads(rest)))
    return ins.Command(False, (rest,))


def _pairs(rest: str) -> tuple[ins.KeyValue, ...]:
    out = []
    for word in rest.split():
        key, _, value = word.partition("=")
        out.append(ins.KeyValue(key, value.strip('"')))
    return tuple(out)


def _one(line: str, file: str, n: int) -> ins.Instruction:
    parsed = parse(f"FROM scratch\n{line}\n", file)
    return parsed.stages[0].instructions[0]


def parse(text: str, file: str = "Dockerfile") -> ins.Dockerfile:
    stages: list[ins.Stage] = []
    global_args: list[ins.Arg] = []
    current: ins.From | None = None
    body: list[ins.Instruction] = []
    for n, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        keyword, _, rest = line.partition(" ")
        keyword = keyword.upper()
        rest = rest.strip()
        flags = []
        while rest.startswith("--"):
            flag, _, rest = rest.partition(" ")
            name, eq, value = flag[2:].partition("=")
            flags.append(ins.Flag(name, value if eq else None))
            rest = rest.strip()
        base = dict(keyword=keyword, original=line, location=ins.Location(file, n, n),
                    flags=tuple(flags))
        made: ins.Instruction
        if keyword == "FROM":
            if current is not None:
                stages.append(ins.Stage(len(stages), current.stage_name, current, tuple(body)))
            words = rest.split()
            name = words[2].lower() if len(words) == 3 and words[1].lower() == "as" else ""
            current, body = ins.From(**base, image=words[0], stage_name=name,
                                     platform=None), []
            continue
        if keyword == "RUN":
            made = ins.Run(**base, command=_command(rest),
                           mounts=tuple(f.value or "" for f in flags if f.name == "mount"),
                           network=next((f.value for f in flags if f.name == "network"), None),
                           security=None)
        elif keyword == "CMD":
            made = ins.Cmd(**base, command=_command(rest))
        elif keyword == "ENTRYPOINT":
            made = ins.Entrypoint(**base, command=_command(rest))
        elif keyword == "ENV":
            made = ins.Env(**base, pairs=_pairs(rest))
        elif keyword == "LABEL":
            made = ins.Label(**base, pairs=_pairs(rest))
        elif keyword == "ARG":
            name, eq, default = rest.partition("=")
            made = ins.Arg(**base, args=(ins.ArgDecl(name, default if eq else None),))
        elif keyword == "WORKDIR":
            made = ins.Workdir(**base, path=rest)
        elif keyword == "USER":
            made = ins.User(**base, user=rest)
        elif keyword == "ONBUILD":
            made = ins.Onbuild(**base, trigger=_one(rest, file, n), text=rest)
        elif keyword == "VOLUME":
            made = ins.Volume(**base, paths=tuple(rest.split()))
        elif keyword == "STOPSIGNAL":
            made = ins.StopSignal(**base, signal=rest)
        elif keyword == "EXPOSE":
            made = ins.Expose(**base, ports=tuple(rest.split()))
        elif keyword in ("COPY", "ADD"):
            words = rest.split()
            made = ins.Copy(**base, sources=tuple(words[:-1]), dest=words[-1])
        else:
            raise DockerfileError(f"{file}:{n}: unknown instruction: {keyword}")
        if current is None:
            if not isinstance(made, ins.Arg):
                raise DockerfileError(f"{file}:{n}: no FROM before {keyword}")
            global_args.append(made)
        else:
            body.append(made)
    if current is not None:
        stages.append(ins.Stage(len(stages), current.stage_name, current, tuple(body)))
    return ins.Dockerfile(file=file, escape="\\", syntax=None, global_args=tuple(global_args),
                          stages=tuple(stages))
