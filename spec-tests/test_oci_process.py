"""process: args, env, cwd, user, umask, rlimits, noNewPrivileges, oomScoreAdj, capabilities."""

from __future__ import annotations

from spectest import caps
from spectest.bundle import PROBE, set_namespace
from spectest.probe import cap_set, observe


def test_args_and_stdout(make):
    ctr = make()
    ctr.config["process"]["args"] = [PROBE, "echo", "hello world"]
    res = ctr.run()
    assert res.returncode == 0, res.stderr
    assert res.stdout == b"hello world\n"


def test_run_returns_exit_status(make):
    ctr = make()
    ctr.config["process"]["args"] = [PROBE, "exit", "7"]
    res = ctr.run()
    assert res.returncode == 7, res.stderr


def test_args_found_through_path(make):
    ctr = make()
    ctr.config["process"]["args"] = ["echo", "via-path"]
    res = ctr.run()
    assert res.returncode == 0, res.stderr
    assert res.stdout == b"via-path\n"


def test_env_exact(make):
    ctr = make()
    ctr.config["process"]["env"] += ["FOO=bar baz", "EMPTY=", "HOME=/root"]
    report = observe(ctr, "env")
    assert report["env"] == ctr.config["process"]["env"]


def test_cwd(make):
    ctr = make()
    ctr.config["process"]["cwd"] = "/work/sub"
    assert observe(ctr, "cwd")["cwd"] == "/work/sub"


def test_user_uid_gid_additional_gids(make):
    ctr = make()
    ctr.config["process"]["user"] = {"uid": 1000, "gid": 1001, "additionalGids": [5, 100]}
    ids = observe(ctr, "ids")["ids"]
    assert (ids["uid"], ids["euid"], ids["gid"], ids["egid"]) == (1000, 1000, 1001, 1001)
    assert sorted(ids["groups"]) == [5, 100]


def test_root_user_has_no_supplementary_groups_by_default(make):
    ids = observe(make(), "ids")["ids"]
    assert (ids["uid"], ids["gid"]) == (0, 0)
    assert ids["groups"] in ([], [0])


def test_umask(make):
    ctr = make()
    ctr.config["process"]["user"]["umask"] = 0o027
    assert observe(ctr, "umask")["umask"] == "0027"


def test_default_umask_is_0022(make):
    assert observe(make(), "umask")["umask"] == "0022"


def test_rlimits(make):
    ctr = make()
    ctr.config["process"]["rlimits"] = [
        {"type": "RLIMIT_NOFILE", "soft": 512, "hard": 1000},
        {"type": "RLIMIT_NPROC", "soft": 300, "hard": 400},
        {"type": "RLIMIT_CORE", "soft": 0, "hard": 0},
        {"type": "RLIMIT_MSGQUEUE", "soft": 4096, "hard": 8192},
    ]
    got = observe(ctr, "rlimits")["rlimits"]
    for rl in ctr.config["process"]["rlimits"]:
        assert got[rl["type"]] == {"soft": rl["soft"], "hard": rl["hard"]}, rl["type"]


def test_no_new_privileges(make):
    on = make()
    assert observe(on, "ids")["ids"]["NoNewPrivs"] == "1"
    off = make()
    off.config["process"]["noNewPrivileges"] = False
    assert observe(off, "ids")["ids"]["NoNewPrivs"] == "0"


def test_oom_score_adj(make):
    ctr = make()
    ctr.config["process"]["oomScoreAdj"] = 500
    assert observe(ctr, "oom")["oom_score_adj"] == 500


def test_oom_score_adj_with_a_user_namespace(make):
    """Written before the user namespace exists (inside it the kernel refuses the write), then
    inherited: runc does the same."""
    ctr = make()
    set_namespace(ctr.config, "user")
    for key in ("uidMappings", "gidMappings"):
        ctr.config["linux"][key] = [{"containerID": 0, "hostID": 100000, "size": 65536}]
    ctr.config["process"]["oomScoreAdj"] = 100
    assert observe(ctr, "oom")["oom_score_adj"] == 100


def test_capabilities_five_sets(make):
    ctr = make()
    sets = {
        "bounding": ["CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_SETUID",
                     "CAP_SETGID", "CAP_NET_RAW"],
        "permitted": ["CAP_CHOWN", "CAP_KILL", "CAP_SETUID", "CAP_NET_RAW"],
        "effective": ["CAP_CHOWN", "CAP_KILL", "CAP_NET_RAW"],
        "inheritable": ["CAP_KILL", "CAP_NET_RAW"],
        "ambient": ["CAP_KILL"],
    }
    ctr.config["process"]["capabilities"] = sets
    report = observe(ctr, "ids")
    fields = {"bounding": "CapBnd", "permitted": "CapPrm", "inheritable": "CapInh",
              "ambient": "CapAmb"}
    for oci, field in fields.items():
        got = cap_set(report, field)
        assert got == caps.mask(sets[oci]), (oci, caps.names(got))
    # execve() as uid 0 makes effective = permitted (kernel rule, not the runtime's choice)
    assert cap_set(report, "CapEff") == caps.mask(sets["permitted"])


def test_ambient_caps_survive_for_non_root_user(make):
    ctr = make()
    ctr.config["process"]["user"] = {"uid": 1000, "gid": 1000}
    # an ambient capability must also be permitted and inheritable (capabilities(7))
    capabilities = ctr.config["process"]["capabilities"]
    capabilities["inheritable"] = list(capabilities["ambient"])
    report = observe(ctr, "ids")
    want = caps.mask(ctr.config["process"]["capabilities"]["ambient"])
    assert cap_set(report, "CapAmb") == want
    assert cap_set(report, "CapEff") == want


def test_no_capabilities_object_means_none(make):
    ctr = make()
    del ctr.config["process"]["capabilities"]
    report = observe(ctr, "ids")
    for field in ("CapInh", "CapPrm", "CapEff", "CapAmb"):
        assert cap_set(report, field) == 0, field
