"""The batch driver's connection to a Ray cluster ([cluster] extra): connect, size, one-line errors.

    --ray                 a running cluster (RAY_ADDRESS, else Ray's discovery of a cluster started
                          on this machine with `ray start`), else a new one-machine cluster
    --ray HOST:PORT       that cluster's head (the GCS address `ray start --head` printed)

One machine (no address, or a 127.0.0.1 address): Ray's one-machine mode is set before Ray is
imported (RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0: node address 127.0.0.1), so every Ray server and
the driver's own bind 127.0.0.1 only; a cluster started here has no dashboard. Usage statistics
are off unless the user turned them on (RAY_USAGE_STATS_ENABLED). An unreachable address fails in
seconds (Ray itself would retry for minutes). Nothing here is imported without --ray.
"""

from __future__ import annotations

import importlib.util
import ipaddress
import logging
import os
import socket
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from localagent.errors import LocalAgentError

DISCOVER = ""  # --ray given without an address
LOOPBACK = "127.0.0.1"
CONNECT_TIMEOUT_S = 10.0


def import_ray() -> ModuleType:
    try:
        import ray
    except ImportError:
        raise LocalAgentError("--ray needs the [cluster] extra: pip install 'localagent[cluster]'") from None
    return ray


@dataclass(frozen=True)
class ClusterShape:
    total_cpus: int
    node_cpus: list[int]  # CPUs of each live node

    def plan(self, workers: int | None, threads: int | None) -> tuple[int, int]:
        """(workers, threads per worker). Defaults: one single-thread worker per cluster CPU; with
        only --ray-workers, the CPUs shared out (a worker's threads are on one node)."""
        biggest = max(self.node_cpus, default=0)
        if threads is not None and threads < 1:
            raise LocalAgentError(f"--ray-threads must be at least 1, got {threads}")
        if workers is not None and workers < 1:
            raise LocalAgentError(f"--ray-workers must be at least 1, got {workers}")
        if threads is None:  # the most threads each that still give every worker a place
            threads = next(
                (
                    t
                    for t in range(biggest, 0, -1)
                    if workers is not None and sum(c // t for c in self.node_cpus) >= workers
                ),
                1,
            )
        if workers is None:
            workers = sum(cpus // threads for cpus in self.node_cpus)
        fit = sum(cpus // threads for cpus in self.node_cpus)
        if workers > fit or workers < 1:
            raise LocalAgentError(
                f"the Ray cluster has room for {fit} workers of {threads} threads "
                f"(nodes with {', '.join(map(str, self.node_cpus)) or 'no'} CPUs); "
                f"lower --ray-workers or --ray-threads, or add nodes"
            )
        return workers, threads


def _is_loopback(address: str) -> bool:
    host = address.rsplit(":", 1)[0].strip("[]")
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def preflight(address: str) -> None:
    """Cheap checks before any work (no Ray import): the extra is installed, the cluster answers."""
    if importlib.util.find_spec("ray") is None:
        import_ray()  # raises the one-line error
    address = resolve_address(address)
    if address:
        _check_reachable(address)


def resolve_address(address: str) -> str:
    """--ray's address, else RAY_ADDRESS, else a cluster started on this machine, else ""."""
    return address or os.environ.get("RAY_ADDRESS", "") or _cluster_started_here()


def connect(address: str) -> ModuleType:
    """ray.init for the batch driver; every failure is one LocalAgentError line."""
    address = resolve_address(address)
    single_machine = not address or _is_loopback(address)
    if single_machine:  # Ray's one-machine mode: node address 127.0.0.1, so every server binds loopback
        os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")  # (read when ray is imported)
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    ray = import_ray()
    if address:
        _check_reachable(address)  # else ray.init retries for minutes, logging to stderr
    quiet: dict[str, Any] = {"logging_level": logging.ERROR, "log_to_driver": False}
    try:
        if address:
            node_ip = {"_node_ip_address": LOOPBACK} if single_machine else {}
            ray.init(address=address, **node_ip, **quiet)
        else:  # no cluster: start one for this run (it stops with the driver)
            ray.init(address="local", _node_ip_address=LOOPBACK, include_dashboard=False, **quiet)
    except Exception as exc:  # noqa: BLE001 - Ray raises many kinds; each becomes one line
        raise LocalAgentError(_connect_failure(address, exc)) from None
    return ray


def _check_reachable(address: str) -> None:
    if "://" in address:  # ray:// (Ray Client) and other schemes: Ray's own checks
        return
    host, _, port = address.rpartition(":")
    try:
        with socket.create_connection((host.strip("[]"), int(port)), timeout=CONNECT_TIMEOUT_S):
            pass
    except ValueError:
        raise LocalAgentError(
            f"--ray {address}: give the head's address as HOST:PORT, e.g. 10.0.0.1:6379"
        ) from None
    except OSError as exc:
        raise LocalAgentError(
            f"cannot reach the Ray cluster at {address}: {exc.strerror or exc} "
            f"(is `ray start --head` running there?)"
        ) from None


def _cluster_started_here() -> str:
    """The address `ray start --head` on this machine left for Ray's discovery, if any."""
    temp = os.environ.get("RAY_TMPDIR") or os.environ.get("TMPDIR") or "/tmp"
    try:
        return (Path(temp) / "ray" / "ray_current_cluster").read_text().strip()
    except OSError:
        return ""


def _connect_failure(address: str, exc: Exception) -> str:
    text = " ".join(str(exc).split())
    where = f"the Ray cluster at {address}" if address else "a Ray cluster"
    if "version mismatch" in text.lower() or "version" in text.lower() and "mismatch" in text.lower():
        return f"cannot use {where}: Ray or Python version differs from this machine's ({text[:300]})"
    return f"cannot reach {where}: {text[:300] or type(exc).__name__}"


def shape(ray: ModuleType) -> ClusterShape:
    cpus = [int(node["Resources"].get("CPU", 0)) for node in ray.nodes() if node.get("Alive")]
    return ClusterShape(total_cpus=sum(cpus), node_cpus=[c for c in cpus if c > 0])


def disconnect(ray: ModuleType) -> None:
    try:
        ray.shutdown()
    except Exception:  # noqa: BLE001 - leaving anyway
        pass
