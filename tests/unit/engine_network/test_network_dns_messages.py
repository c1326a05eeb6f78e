"""The embedded DNS's answers: local names (A, AAAA, MX, PTR), truncation, malformed queries,
and forwarding to upstreams by docker's rules (skip failing, refusing and non-authoritative
NXDOMAIN upstreams; SERVFAIL when none answers), against fake resolvers on 127.0.0.1."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import dns.flags
import dns.message
import dns.rcode
import dns.rdatatype
import pytest
from pyengine.network.dns import PTR, A, EmbeddedDns, error_reply, local_answer, to_wire

from tests.fixtures.fakedns import FakeResolver

NAMES = {"web": ["10.77.0.2"], "db": ["10.77.0.3"], "many": [f"10.77.1.{i}" for i in range(60)],
         "bare": []}
calls: list[tuple[str, str, int]] = []


def lookup(cid: str, name: str, qtype: int) -> list[str] | None:
    calls.append((cid, name, qtype))
    if cid != "c1":
        return None
    if qtype == PTR:
        return ["web.net1"] if name == "2.0.77.10.in-addr.arpa" else None
    return NAMES.get(name)


def ask(name: str, qtype: str = "A") -> dns.message.Message:
    return dns.message.make_query(name, qtype)


def test_a_case_insensitive_with_or_without_final_dot() -> None:
    calls.clear()
    for name in ("web", "WEB.", "Web"):
        query = ask(name)
        answer = local_answer(lookup, "c1", query)
        assert answer is not None and answer.id == query.id
        assert answer.rcode() == dns.rcode.NOERROR and answer.flags & dns.flags.RA
        (rrset,) = answer.answer
        assert rrset.ttl == 600 and [r.to_text() for r in rrset] == ["10.77.0.2"]
        assert rrset.name == query.question[0].name  # as asked
    assert calls == [("c1", "web", A)] * 3
    assert local_answer(lookup, "c2", ask("web")) is None  # another container's view
    assert local_answer(lookup, "c1", ask("example.com")) is None


def test_aaaa_and_mx_of_known_names_are_empty() -> None:
    for qtype in ("AAAA", "MX"):
        answer = local_answer(lookup, "c1", ask("db", qtype))
        assert answer is not None and answer.rcode() == dns.rcode.NOERROR and not answer.answer
        assert local_answer(lookup, "c1", ask("nope", qtype)) is None
    answer = local_answer(lookup, "c1", ask("bare"))
    assert answer is not None and not answer.answer
    assert local_answer(lookup, "c1", ask("web", "TXT")) is None  # forwarded


def test_ptr() -> None:
    answer = local_answer(lookup, "c1", ask("2.0.77.10.in-addr.arpa", "PTR"))
    assert answer is not None
    (rrset,) = answer.answer
    assert rrset.rdtype == dns.rdatatype.PTR and [r.to_text() for r in rrset] == ["web.net1."]
    assert local_answer(lookup, "c1", ask("9.0.77.10.in-addr.arpa", "PTR")) is None
    upper = local_answer(lookup, "c1", ask("2.0.77.10.IN-ADDR.ARPA.", "PTR"))
    assert upper is not None and upper.answer


def test_udp_answers_are_truncated_to_fit() -> None:
    query = ask("many")
    answer = local_answer(lookup, "c1", query)
    assert answer is not None
    wire = to_wire(answer, 512)
    parsed = dns.message.from_wire(wire)
    assert len(wire) <= 512 and parsed.flags & dns.flags.TC
    assert 0 < len(parsed.answer[0]) < 60
    again = local_answer(lookup, "c1", query)
    assert again is not None
    full = dns.message.from_wire(to_wire(again, 65535))
    assert not full.flags & dns.flags.TC and len(full.answer[0]) == 60


def test_error_replies() -> None:
    query = ask("web")
    reply = dns.message.from_wire(error_reply(query.to_wire(), dns.rcode.SERVFAIL) or b"")
    assert reply.id == query.id and reply.rcode() == dns.rcode.SERVFAIL
    header = query.to_wire()[:12] + b"\xff"  # a header and garbage
    bare = error_reply(header, dns.rcode.FORMERR)
    assert bare is not None and bare[:2] == header[:2] and bare[3] & 0x0F == dns.rcode.FORMERR
    assert error_reply(b"\x01", dns.rcode.FORMERR) is None


def run(upstreams: Sequence[FakeResolver], names: Sequence[str],
        tcp: bool = False) -> list[dns.message.Message]:
    async def main() -> list[dns.message.Message]:
        for resolver in upstreams:
            await resolver.start()
        try:
            server = EmbeddedDns(lookup, lambda cid: [("127.0.0.1", r.port) for r in upstreams],
                                 timeout=0.5)
            replies = []
            for name in names:
                wire = await server.answer("c1", ask(name).to_wire(), tcp)
                assert wire is not None
                replies.append(dns.message.from_wire(wire))
            return replies
        finally:
            for resolver in upstreams:
                await resolver.stop()

    return asyncio.run(main())


@pytest.mark.parametrize("tcp", [False, True])
def test_forwarding_skips_failing_upstreams(tcp: bool) -> None:
    failing = FakeResolver(rcode=dns.rcode.SERVFAIL)
    refusing = FakeResolver(rcode=dns.rcode.REFUSED)
    good = FakeResolver(records={"example.test": "192.0.2.7"})
    (reply,) = run([failing, refusing, good], ["example.test"], tcp)
    assert [r.to_text() for r in reply.answer[0]] == ["192.0.2.7"]
    proto = "tcp" if tcp else "udp"
    assert failing.seen == refusing.seen == good.seen == [("example.test", proto)]


def test_nxdomain_stops_only_when_authoritative() -> None:
    guessing = FakeResolver(authoritative=False)
    good = FakeResolver(records={"example.test": "192.0.2.7"})
    (reply,) = run([guessing, good], ["example.test"])
    assert reply.answer and guessing.seen and good.seen
    sure = FakeResolver()
    never = FakeResolver(records={"example.test": "192.0.2.7"})
    (reply,) = run([sure, never], ["example.test"])
    assert reply.rcode() == dns.rcode.NXDOMAIN and not never.seen


def test_servfail_when_no_upstream_answers() -> None:
    silent = FakeResolver(silent=True)
    (reply,) = run([silent], ["example.test"])
    assert reply.rcode() == dns.rcode.SERVFAIL and silent.seen
    (reply,) = run([], ["example.test"])
    assert reply.rcode() == dns.rcode.SERVFAIL
    # an upstream's own failure is what the client gets when it is the last word
    (reply,) = run([FakeResolver(rcode=dns.rcode.REFUSED)], ["example.test"])
    assert reply.rcode() == dns.rcode.REFUSED


def test_local_names_are_not_forwarded() -> None:
    upstream = FakeResolver(records={"web": "192.0.2.1"})
    (reply,) = run([upstream], ["web"])
    assert [r.to_text() for r in reply.answer[0]] == ["10.77.0.2"] and upstream.seen == []
