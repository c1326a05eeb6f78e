"""TEST-ONLY stand-ins for the other helpers' build modules (the parser, expand,
.dockerignore), loaded into the test daemon only when the real module
is missing (this finder comes after every real one). Delete this directory once the real
modules are merged (the solver's tests then use them unchanged)."""

from __future__ import annotations

import importlib.abc
import importlib.util
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
STANDINS = {
    "pyengine.build.dockerfile.parser": "standin_parser.py",
    "pyengine.build.dockerfile.expand": "standin_expand.py",
    "pyengine.build.ignore": "standin_ignore.py",
}


class _Finder(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname, path, target=None):  # type: ignore[no-untyped-def]
        if fullname not in STANDINS:
            return None
        return importlib.util.spec_from_file_location(fullname, HERE / STANDINS[fullname])


sys.meta_path.append(_Finder())
