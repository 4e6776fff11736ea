"""Loss curves (train and held-out) of training runs as one PNG."""

from __future__ import annotations

import json
from pathlib import Path

METRICS = "metrics.jsonl"  # written by trainer.train


def read_metrics(run: Path) -> list[dict]:
    lines = (run / METRICS).read_text().splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def plot_runs(runs: dict[str, Path], out: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 4.5), dpi=110)
    for label, run in runs.items():
        records = read_metrics(run)
        train = [(r["tokens"] / 1e6, r["loss"]) for r in records if "loss" in r]
        held = [(r["tokens"] / 1e6, r["heldout_loss"]) for r in records if "heldout_loss" in r]
        (line,) = ax.plot(*zip(*train, strict=True), lw=1, alpha=0.6, label=f"{label} train")
        if held:
            ax.plot(*zip(*held, strict=True), "o-", ms=3, color=line.get_color(), label=f"{label} held-out")
    ax.set_xlabel("tokens seen (millions)")
    ax.set_ylabel("cross-entropy (nats/token)")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    tmp = out.with_name(out.name + ".tmp.png")
    fig.savefig(tmp)
    plt.close(fig)
    tmp.replace(out)
    return out
