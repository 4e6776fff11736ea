"""Facts about this machine that the engine needs: physical cores, process memory."""

from __future__ import annotations

import os
import resource
from pathlib import Path


def physical_cores() -> int:
    """Physical cores available to this process (hyper-threads do not help llama.cpp)."""
    available = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    try:
        cores: set[tuple[str, str]] = set()
        physical = core = ""
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            key, value = key.strip(), value.strip()
            if key == "physical id":
                physical = value
            elif key == "core id":
                core = value
            elif not key and (physical or core):
                cores.add((physical, core))
                physical = core = ""
        if physical or core:
            cores.add((physical, core))
        if cores:
            return max(1, min(len(cores), available))
    except OSError:
        pass
    return max(1, available)


def rss_bytes() -> int:
    """Resident memory of this process now (falls back to the peak where /proc is missing)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def peak_rss_bytes() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
