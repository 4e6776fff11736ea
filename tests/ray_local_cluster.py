"""A Ray cluster on this machine for the --ray tests: a head node and worker nodes, each its own
raylet process, every server bound to 127.0.0.1 (Ray's local cluster utilities).

    python tests/ray_local_cluster.py --workers 1 --cpus 1

Prints one JSON line {"address": "127.0.0.1:PORT"} when every node is up, then runs until its
standard input closes or it gets SIGTERM, and stops the cluster. `start()` runs it from a test or
a bench, trying again if a node misses one of Ray's start-up deadlines on a busy machine.

`ray start --address` cannot be used for the worker nodes: Ray swaps a 127.0.0.1 address for the
machine's network address there, so their servers would listen on the network; here all of them
listen on loopback only.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

ATTEMPTS = 3


def start(
    env: dict[str, str], workers: int = 1, cpus: int = 1, head_cpus: int = 1
) -> tuple[subprocess.Popen, str]:
    """This script in a subprocess (stdin a pipe: close it to stop the cluster); its address.
    ``env`` must name a RAY_TMPDIR of this cluster's own."""
    for attempt in range(1, ATTEMPTS + 1):
        process = subprocess.Popen(
            [
                sys.executable,
                str(Path(__file__).resolve()),
                "--workers",
                str(workers),
                "--cpus",
                str(cpus),
                "--head-cpus",
                str(head_cpus),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env={**os.environ, **env},
        )
        line = process.stdout.readline()
        if line:
            return process, json.loads(line)["address"]
        code = process.wait()
        kill_leftovers(env["RAY_TMPDIR"])  # agents of a failed start outlive it
        if attempt == ATTEMPTS:
            raise RuntimeError(f"the Ray cluster did not start in {ATTEMPTS} attempts (exit code {code})")
    raise AssertionError("unreachable")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--workers", type=int, default=1, help="worker nodes besides the head")
    parser.add_argument("--cpus", type=int, default=1, help="CPUs of each node")
    parser.add_argument("--head-cpus", type=int, default=0, help="CPUs of the head node (0: none for actors)")
    args = parser.parse_args()
    os.environ["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] = "0"  # Ray's one-machine mode: node address 127.0.0.1
    os.environ["RAY_USAGE_STATS_ENABLED"] = "0"
    from ray.cluster_utils import Cluster

    loopback = {"node_ip_address": "127.0.0.1", "object_store_memory": 80 * 1024 * 1024}
    cluster = Cluster(
        initialize_head=True,
        head_node_args={**loopback, "num_cpus": args.head_cpus, "include_dashboard": False},
    )
    for _ in range(args.workers):
        cluster.add_node(**loopback, num_cpus=args.cpus)
    cluster.wait_for_nodes()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print(json.dumps({"address": cluster.address}), flush=True)
    try:
        sys.stdin.read()  # until the test closes the pipe
    finally:
        cluster.shutdown()


def kill_leftovers(ray_tmpdir: str) -> None:
    """SIGKILL the processes whose environment names this cluster's own RAY_TMPDIR."""
    marker = f"RAY_TMPDIR={ray_tmpdir}\0".encode()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != os.getpid():
            try:
                if marker in (entry / "environ").read_bytes():
                    os.kill(int(entry.name), signal.SIGKILL)
            except (OSError, ProcessLookupError):
                continue


if __name__ == "__main__":
    main()
