"""`localagent batch --ray` on a real Ray cluster on this machine (a head node and a worker node of
one CPU each, separate processes, loopback only): same records as a local run, a killed worker's documents retried and
written once, a SIGKILLed driver resumed, one-line errors.

Every Ray process (cluster and driver) is a subprocess, so this test process opens no socket and
needs no exemption from conftest's network guard; instead the tests check that every socket the
Ray processes hold is bound to 127.0.0.1.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import ray_local_cluster
from batch_samples import make_invoices, make_short_documents, write_schema

pytestmark = [
    pytest.mark.ray,
    pytest.mark.skipif(importlib.util.find_spec("ray") is None, reason="needs the [cluster] extra (ray)"),
]

TESTS = Path(__file__).resolve().parent
MODEL = ["--model", "tern-18m", "--n-ctx", "512"]  # the project's 18M ternary model: fast on 2 cores
CLASSIFY = ["--task", "classify", "--labels", "invoice,letter,recipe"]
DOCS = 40
EXTRACT_TOKENS = "40"  # room for the five fields, still quick


class Cluster:
    def __init__(self, process: subprocess.Popen, address: str, env: dict[str, str]):
        self.process, self.address, self.env = process, address, env

    def batch(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "localagent", "batch", *args],
            capture_output=True,
            text=True,
            env={**os.environ, **self.env},
            timeout=timeout,
        )

    def popen_batch(self, *args: str) -> subprocess.Popen:
        return subprocess.Popen(
            [sys.executable, "-m", "localagent", "batch", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, **self.env},
        )

    def actor_pids(self) -> list[int]:
        return [pid for pid in _descendants(self.process.pid) if _cmdline(pid).startswith("ray::BatchActor")]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    ray_tmp = Path(
        tempfile.mkdtemp(prefix="ray-", dir="/tmp")
    )  # short: Ray's socket paths must fit 107 bytes
    home = tmp_path_factory.mktemp("ray-home")
    env = {
        "RAY_TMPDIR": str(ray_tmp),
        "RAY_USAGE_STATS_ENABLED": "0",
        "LOCALAGENT_HOME": str(home / "home"),
        "LOCALAGENT_CACHE_DIR": str(home / "cache"),
    }
    process, address = ray_local_cluster.start(env, workers=1, cpus=1, head_cpus=1)  # 2 nodes: 2 CPUs
    try:
        assert address.startswith("127.0.0.1:")
        yield Cluster(process, address, env)
    finally:
        process.stdin.close()
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
        ray_local_cluster.kill_leftovers(str(ray_tmp))
        shutil.rmtree(ray_tmp, ignore_errors=True)


def _descendants(root: int) -> list[int]:
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parents[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        children = [child for child, parent in parents.items() if parent == pid]
        found += children
        todo += children
    return found


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def _inet_sockets(pids: list[int]) -> list[str]:
    """Local addresses ("127.0.0.1" ...) of the TCP/UDP sockets the processes hold."""
    inodes = set()
    for pid in pids:
        try:
            for fd in Path(f"/proc/{pid}/fd").iterdir():
                target = os.readlink(fd)
                if target.startswith("socket:["):
                    inodes.add(target[8:-1])
        except OSError:
            continue
    addresses = []
    for table in ("tcp", "udp", "tcp6", "udp6"):
        for line in Path(f"/proc/net/{table}").read_text().splitlines()[1:]:
            fields = line.split()
            if fields[9] in inodes:
                addresses.append(_address(fields[1].split(":")[0]))
    return addresses


def _address(hex_ip: str) -> str:
    raw = bytes.fromhex(hex_ip)
    words = b"".join(raw[i : i + 4][::-1] for i in range(0, len(raw), 4))  # little-endian 32-bit words
    if len(words) == 16 and words[:12] == b"\0" * 10 + b"\xff\xff":
        words = words[12:]  # IPv4-mapped IPv6
    if len(words) == 4:
        return ".".join(str(b) for b in words)
    return "::1" if words == b"\0" * 15 + b"\1" else ("::" if words == b"\0" * 16 else words.hex())


def _assert_loopback_only(pids: list[int]) -> None:
    addresses = _inet_sockets(pids)
    assert addresses, "found no sockets of the Ray processes (is /proc readable?)"
    assert set(addresses) <= {"127.0.0.1", "::1"}, (
        f"a Ray process holds a non-loopback socket: {set(addresses)}"
    )


def _records(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def _by_file(path: Path) -> dict[str, tuple]:
    records = _records(path)
    assert len({r["file"] for r in records}) == len(records), "a document has two records"
    return {
        r["file"]: (r["sha256"], r["task"], r["status"], r["result"], r["error"], r["model"]) for r in records
    }


@pytest.fixture(scope="module")
def documents(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("ray-docs")
    make_short_documents(root / "short", DOCS)
    make_invoices(root / "invoices", DOCS)
    return {
        "short": root / "short",
        "invoices": root / "invoices",
        "schema": write_schema(root / "schema.json"),
    }


def test_cluster_binds_loopback_only(cluster: Cluster) -> None:
    _assert_loopback_only(_descendants(cluster.process.pid))


@pytest.mark.parametrize("task", ["classify", "extract"])
def test_ray_records_equal_a_local_one_worker_run(
    cluster: Cluster, documents: dict[str, Path], tmp_path: Path, task: str
) -> None:
    if task == "classify":
        args = [str(documents["short"]), *CLASSIFY, *MODEL]
    else:
        args = [
            str(documents["invoices"]),
            "--task",
            "extract",
            "--schema",
            str(documents["schema"]),
            "--max-tokens",
            EXTRACT_TOKENS,
            *MODEL,
        ]
    local = cluster.batch(*args, "--out", str(tmp_path / "local.jsonl"), "--workers", "1")
    assert local.returncode == 0, local.stderr
    on_ray = cluster.batch(
        *args, "--out", str(tmp_path / "ray.jsonl"), "--ray", cluster.address, "--ray-workers", "2", "--json"
    )
    assert on_ray.returncode == 0, on_ray.stderr
    summary = json.loads(on_ray.stdout)
    assert summary["processed"] == DOCS and summary["retried"] == 0
    expected, got = _by_file(tmp_path / "local.jsonl"), _by_file(tmp_path / "ray.jsonl")
    assert len(expected) == DOCS
    assert got == expected  # results and status record for record (timings aside)
    if task == "classify":
        assert {result for _, _, _, result, _, _ in got.values()} <= {"invoice", "letter", "recipe"}


def _wait_for_records(out: Path, process: subprocess.Popen, count: int, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        if out.exists() and out.read_bytes().count(b"\n") >= count:
            return
        time.sleep(0.05)
    raise AssertionError(f"the batch wrote no {count} records in time (exit code {process.poll()})")


def _extract_args(documents: dict[str, Path]) -> list[str]:
    return [
        str(documents["invoices"]),
        "--task",
        "extract",
        "--schema",
        str(documents["schema"]),
        "--max-tokens",
        EXTRACT_TOKENS,
        *MODEL,
    ]


def test_killed_worker_documents_are_retried_and_written_once(
    cluster: Cluster, documents: dict[str, Path], tmp_path: Path
) -> None:
    out = tmp_path / "fields.jsonl"
    driver = cluster.popen_batch(
        *_extract_args(documents), "--out", str(out), "--ray", cluster.address, "--ray-workers", "2", "--json"
    )
    _wait_for_records(out, driver, 4)
    actors = cluster.actor_pids()
    assert len(actors) == 2, [_cmdline(pid) for pid in actors]
    os.kill(actors[0], signal.SIGKILL)
    stdout, stderr = driver.communicate(timeout=300)
    assert driver.returncode == 0, stderr
    summary = json.loads(stdout)
    assert summary["retried"] >= 1, summary  # the killed worker's documents went to the other worker
    assert summary["processed"] == DOCS
    records = _by_file(out)
    assert sorted(records) == sorted(str(p) for p in documents["invoices"].iterdir())
    assert all("Ray worker" not in (error or "") for _, _, _, _, error, _ in records.values())


def test_sigkilled_driver_then_rerun_gives_one_record_per_document(
    cluster: Cluster, documents: dict[str, Path], tmp_path: Path
) -> None:
    out = tmp_path / "fields.jsonl"
    args = [*_extract_args(documents), "--out", str(out), "--ray", cluster.address, "--ray-workers", "2"]
    driver = cluster.popen_batch(*args)
    _wait_for_records(out, driver, 6)
    _assert_loopback_only([driver.pid, *_descendants(cluster.process.pid)])  # the driver's sockets too
    os.kill(driver.pid, signal.SIGKILL)
    driver.wait()
    written = len(_records(out))
    assert 0 < written < DOCS
    deadline = time.monotonic() + 60  # Ray ends the actors of a dead driver
    while cluster.actor_pids() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not cluster.actor_pids(), "Ray workers outlived their killed driver"
    rerun = cluster.batch(*args, "--json")
    assert rerun.returncode == 0, rerun.stderr
    summary = json.loads(rerun.stdout)
    assert summary["already_done"] >= written and summary["processed"] == DOCS - summary["already_done"]
    lines = out.read_text(encoding="utf-8").splitlines()
    records = [json.loads(line) for line in lines]  # every line parses
    assert sorted(r["file"] for r in records) == sorted(str(p) for p in documents["invoices"].iterdir())


def test_worker_without_the_model_or_with_another_is_one_line_exit_1(
    cluster: Cluster, documents: dict[str, Path], tmp_path: Path
) -> None:
    base = [str(documents["short"]), *CLASSIFY, *MODEL, "--ray", cluster.address]
    missing = cluster.batch(
        *base, "--out", str(tmp_path / "a.jsonl"), "--ray-model-path", str(tmp_path / "no.gguf")
    )
    other = cluster.batch(
        *base,
        "--out",
        str(tmp_path / "b.jsonl"),
        "--ray-model-path",
        str(TESTS.parent / "models" / "tern-18m-tq1_0.gguf"),
    )
    for result, phrase in ((missing, "no model file at"), (other, "is another model than the driver's")):
        assert result.returncode == 1
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
        assert "Ray worker on 127.0.0.1" in result.stderr and phrase in result.stderr
        assert "Traceback" not in result.stderr


def _unused_port() -> int:
    """A loopback port nothing listens on (read from /proc, without opening a socket)."""
    used = set()
    for table in ("tcp", "tcp6"):
        for line in Path(f"/proc/net/{table}").read_text().splitlines()[1:]:
            used.add(int(line.split()[1].rsplit(":", 1)[1], 16))
    return next(port for port in range(47000, 48000) if port not in used)


def test_unreachable_cluster_is_one_line_exit_1(
    cluster: Cluster, documents: dict[str, Path], tmp_path: Path
) -> None:
    result = cluster.batch(
        str(documents["short"]),
        *CLASSIFY,
        *MODEL,
        "--out",
        str(tmp_path / "a.jsonl"),
        "--ray",
        f"127.0.0.1:{_unused_port()}",
        timeout=60,
    )
    assert result.returncode == 1
    assert result.stderr.startswith("localagent: error: cannot reach the Ray cluster at 127.0.0.1:")
    assert len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "a.jsonl").exists()  # refused before anything was written


def test_worker_with_other_software_versions_is_refused() -> None:
    from localagent.batch.ray_actor import WorkerFacts, check_worker, software_versions
    from localagent.errors import LocalAgentError

    here = software_versions()
    facts = WorkerFacts(node_id="n1", pid=1, versions=here, model_path="m.gguf", error=None)
    check_worker(facts, "10.0.0.2", here)  # same software: accepted
    older = {**here, "llama-cpp-python": "0.3.1"}
    with pytest.raises(LocalAgentError, match=r"Ray worker on 10.0.0.2 runs llama-cpp-python 0.3.1 \(here "):
        check_worker(WorkerFacts("n1", 1, older, "m.gguf", None), "10.0.0.2", here)


def test_cluster_shape_plans_workers_and_threads() -> None:
    from localagent.batch.ray_cluster import ClusterShape
    from localagent.errors import LocalAgentError

    shape = ClusterShape(total_cpus=12, node_cpus=[4, 8])
    assert shape.plan(None, None) == (12, 1)  # one single-thread worker per CPU
    assert shape.plan(None, 4) == (3, 4)
    assert shape.plan(3, None) == (3, 4)  # the CPUs shared out, a worker on one node
    assert shape.plan(2, None) == (2, 4)  # (6 threads each would fit the 8-CPU node only)
    assert shape.plan(1, None) == (1, 8)
    with pytest.raises(LocalAgentError, match="room for 1 workers of 6 threads"):
        shape.plan(2, 6)
    with pytest.raises(LocalAgentError, match="--ray-workers must be at least 1"):
        shape.plan(0, None)
