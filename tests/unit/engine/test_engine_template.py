"""The Go-template evaluator on docker's --format idioms."""

from __future__ import annotations

import pytest
from pyengine.cli.template import TemplateError, compile_template, go_str

DOC = {
    "Id": "sha256:" + "ab" * 32,
    "RepoTags": ["busybox:latest", "busybox:1.35"],
    "Config": {"Cmd": ["sh"], "Entrypoint": None, "Env": ["PATH=/bin"],
               "Labels": {"b": "2", "a": "1"}, "Volumes": None},
    "Size": 2140160,
    "Os": "linux",
}


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("{{.Id}}", DOC["Id"]),
        ("{{.Config.Cmd}}", "[sh]"),
        ("{{.Config.Entrypoint}}", "[]"),
        ("{{.Config.Volumes}}", "map[]"),
        ("{{.Config.Labels}}", "map[a:1 b:2]"),
        ("{{index .RepoTags 0}}", "busybox:latest"),
        ("{{index .Config.Labels \"a\"}}", "1"),
        ('{{join .RepoTags ","}}', "busybox:latest,busybox:1.35"),
        ("{{range .RepoTags}}[{{.}}]{{end}}", "[busybox:latest][busybox:1.35]"),
        ("{{range $k, $v := .Config.Labels}}{{$k}}={{$v}};{{end}}", "a=1;b=2;"),
        ("{{range $i, $t := .RepoTags}}{{$i}}:{{$t}} {{end}}", "0:busybox:latest 1:busybox:1.35 "),
        ("{{if .Config.Entrypoint}}E{{else if .Config.Cmd}}C{{else}}N{{end}}", "C"),
        ("{{with .Config}}{{.Env}}{{end}}", "[PATH=/bin]"),
        ("{{.Size}}", "2140160"),
        ("{{len .RepoTags}}", "2"),
        ("{{.Os | upper}}", "LINUX"),
        ("{{upper (index .RepoTags 1)}}", "BUSYBOX:1.35"),
        ('{{printf "%s/%d" .Os .Size}}', "linux/2140160"),
        ("a {{- .Os -}} b", "alinuxb"),
        ("{{$x := .Os}}{{$x}}", "linux"),
        ("{{$.Os}}", "linux"),
        ("{{json .RepoTags}}", '["busybox:latest","busybox:1.35"]'),
        ("{{eq .Os \"linux\"}}", "true"),
        ("{{/* comment */}}x", "x"),
    ],
)
def test_idioms(source: str, expected: str) -> None:
    assert compile_template(source).render(DOC) == expected


def test_json_keeps_key_order_and_nulls() -> None:
    out = compile_template("{{json .Config}}").render(DOC)
    assert out.startswith('{"Cmd":["sh"],"Entrypoint":null,')


@pytest.mark.parametrize("source", ["{{.Nope}}", "{{if .Os}}x", "{{end}}", "{{nosuchfunc .Os}}",
                                    "{{index .RepoTags 9}}"])
def test_errors(source: str) -> None:
    with pytest.raises(TemplateError):
        compile_template(source).render(DOC)


def test_go_str_values() -> None:
    assert go_str(True) == "true"
    assert go_str(None) == "<no value>"
    assert go_str(3.0) == "3"
    assert go_str({"k": [1, 2]}) == "map[k:[1 2]]"
