"""The status line: model, quant type, bits/weight, RAM, tokens/s, context used, collection, a
watched folder, what the app is doing."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from rich.markup import escape
from textual.widgets import Static


@dataclass(frozen=True)
class StatusInfo:
    model: str = ""
    quant: str = ""
    bits_per_weight: float = 0.0
    rss_bytes: int = 0
    tok_s: float = 0.0
    context_used: int = 0
    n_ctx: int = 0
    collection: str = ""
    activity: str = ""  # "loading model…", "answering…", "indexing 3/10", ""
    watching: str = ""  # "watching ~/docs · up to date", ""

    @classmethod
    def from_stats(cls, stats: Any, **more: Any) -> StatusInfo:
        """From an EngineStats (localagent.engine)."""
        return cls(
            model=stats.model_name,
            quant=stats.main_type,
            bits_per_weight=stats.bits_per_weight,
            rss_bytes=stats.rss_bytes,
            tok_s=stats.gen_tok_s,
            context_used=stats.context_used,
            n_ctx=stats.n_ctx,
            **more,
        )

    def with_(self, **changes: Any) -> StatusInfo:
        return replace(self, **changes)


def status_text(info: StatusInfo) -> str:
    """One line of Rich markup; parts with no value yet are left out."""
    parts = []
    if info.model:
        parts.append(f"[b]{escape(info.model)}[/b]")
        if info.quant:
            parts.append(f"{info.quant} {info.bits_per_weight:.2f} bits/w")
        parts.append(f"RAM {info.rss_bytes / 2**20:.0f} MB")
        parts.append(f"{info.tok_s:.1f} tok/s" if info.tok_s else "– tok/s")
        if info.n_ctx:
            parts.append(f"ctx {info.context_used}/{info.n_ctx}")
    else:
        parts.append("[dim]no model[/dim]")
    if info.collection:
        parts.append(f"collection [b]{escape(info.collection)}[/b]")
    if info.watching:
        parts.append(escape(info.watching))
    if info.activity:
        parts.append(f"[i]{info.activity}[/i]")
    return "  │  ".join(parts)


class StatusLine(Static):
    """Shows a StatusInfo; `show(info)` replaces what is shown."""

    def __init__(self, **kwargs: Any):
        super().__init__("", **kwargs)
        self.info = StatusInfo()

    def show(self, info: StatusInfo) -> None:
        self.info = info
        self.update(status_text(info))
