"""Container identities: 64-hex ids, docker's name rules, and a name generator."""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Iterable

from pyengine.errors import InvalidArgument, NotFound

NAME_RE = re.compile(r"^/?[a-zA-Z0-9][a-zA-Z0-9_.-]+$")
ID_RE = re.compile(r"^[0-9a-f]{64}$")

# our own word lists (adjective_scientist), in the spirit of docker's generator
ADJECTIVES = (
    "amber", "brave", "calm", "clever", "crisp", "daring", "eager", "fancy", "gentle", "happy",
    "jolly", "keen", "lively", "lucid", "merry", "nimble", "patient", "plucky", "quiet",
    "quirky", "rapid", "serene", "shiny", "steady", "sunny", "swift", "tender", "upbeat",
    "vivid", "witty", "zealous", "bold",
)
SURNAMES = (
    "agnesi", "babbage", "bohr", "cannon", "curie", "darwin", "dijkstra", "euler", "faraday",
    "fermi", "gauss", "goodall", "hamilton", "hopper", "hypatia", "johnson", "kepler",
    "lamarr", "lovelace", "maxwell", "meitner", "noether", "pasteur", "ritchie", "sammet",
    "shannon", "thompson", "turing", "volta", "wozniak", "yalow", "zuse",
)


def new_id() -> str:
    return secrets.token_hex(32)


def validate(name: str) -> str:
    """`name` without a leading "/", or InvalidArgument with docker's message."""
    if not NAME_RE.match(name):
        raise InvalidArgument(
            f'Invalid container name ({name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed'
        )
    return name.lstrip("/")


def generate(taken: Callable[[str], bool], retries: int = 10) -> str:
    """adjective_surname, with a digit appended after a collision, as docker does."""
    for attempt in range(retries):
        name = f"{secrets.choice(ADJECTIVES)}_{secrets.choice(SURNAMES)}"
        if attempt:
            name += str(secrets.randbelow(10))
        if not taken(name):
            return name
    return f"{secrets.choice(ADJECTIVES)}_{secrets.choice(SURNAMES)}_{secrets.token_hex(4)}"


def resolve(ref: str, ids: Iterable[str], names: dict[str, str]) -> str:
    """The id `ref` names: a full id, an exact name (with or without "/"), or a unique id
    prefix. `names` maps name -> id."""
    ref = ref.strip()
    if not ref:
        raise NotFound("No such container: ")
    all_ids = list(ids)
    if ID_RE.match(ref) and ref in all_ids:
        return ref
    name = ref.lstrip("/")
    if name in names:
        return names[name]
    matches = [i for i in all_ids if i.startswith(ref)] if re.fullmatch(r"[0-9a-f]+", ref) else []
    if len(matches) == 1:
        return matches[0]
    if len(matches) > 1:
        raise InvalidArgument(f"multiple IDs found with provided prefix: {ref}")
    raise NotFound(f"No such container: {ref}")
