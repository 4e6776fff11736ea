"""`quantize convert`: checkpoint -> plan -> policy -> GGUF, with a report."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from gguf import LlamaFileType

from kernels import gguf_types
from quantize.archs import build_plan
from quantize.checkpoint import load_checkpoint
from quantize.errors import QuantizeError
from quantize.packing import TYPE_BY_NAME, is_low_bit_type
from quantize.plan import LINEAR
from quantize.policy import OFF_GRID_LIMIT, check_fallbacks, choose_type
from quantize.tokenizer import load_vocab
from quantize.writer import Progress, TensorRecord, write_gguf

WEIGHT_TYPES = ("tq2_0", "tq1_0", "q1_0", "q2_0", "q8_0", "f16")
EMBED_TYPES = ("q8_0", "f16", "f32", "tq2_0", "tq1_0", "q1_0", "q2_0")
FILE_TYPES = {
    "tq2_0": LlamaFileType.MOSTLY_TQ2_0,
    "tq1_0": LlamaFileType.MOSTLY_TQ1_0,
    "q1_0": LlamaFileType.MOSTLY_Q1_0,
    "q2_0": gguf_types.MOSTLY_Q2_0,
    "q8_0": LlamaFileType.MOSTLY_Q8_0,
    "f16": LlamaFileType.MOSTLY_F16,
}


@dataclass
class ConvertResult:
    records: list[TensorRecord]
    arch: str
    source_arch: str
    messages: list[str] = field(default_factory=list)  # warnings for the user


def convert(
    ckpt_dir: Path,
    out: Path,
    weight_type: str = "tq2_0",
    embed_type: str = "q8_0",
    strict: bool = False,
    allow_ptq: bool = False,
    bpe_pre: str | None = None,
    progress: Progress | None = None,
    threads: int = 0,
) -> ConvertResult:
    """Convert a Hugging Face checkpoint directory into a GGUF file (atomically).

    ``threads`` pack chunks in parallel (0: the CPUs available, at most 4); the bytes are the same."""
    if weight_type not in WEIGHT_TYPES:
        raise QuantizeError(f"unknown --type {weight_type}: choose from {', '.join(WEIGHT_TYPES)}")
    if embed_type not in EMBED_TYPES:
        raise QuantizeError(f"unknown --embed-type {embed_type}: choose from {', '.join(EMBED_TYPES)}")
    out = Path(out)
    if not out.parent.is_dir():
        raise QuantizeError(f"output directory {out.parent} does not exist")
    wtype, etype = TYPE_BY_NAME[weight_type], TYPE_BY_NAME[embed_type]
    ckpt = load_checkpoint(ckpt_dir)
    plan = build_plan(ckpt, low_bit=is_low_bit_type(wtype), allow_ptq=allow_ptq)
    if ckpt.config.get("localagent_role"):  # a reader model (see localagent.agent.reader)
        plan.hparams["localagent.role"] = str(ckpt.config["localagent_role"])
    for name in ("question_first", "hints"):  # its prompt layout (reader_prompt.ReaderLayout)
        if ckpt.config.get(f"localagent_reader_{name}"):
            plan.hparams[f"localagent.reader.{name}"] = True
    vocab = load_vocab(ckpt.directory, int(plan.hparams[f"{plan.arch}.vocab_size"]), bpe_pre)
    choices = {t.name: choose_type(t, wtype, etype) for t in plan.tensors}
    messages = list(plan.notes) + check_fallbacks(choices, strict)
    types = {name: (c.qtype, c.reason) for name, c in choices.items()}
    records = write_gguf(
        out,
        plan,
        vocab,
        ckpt.directory,
        types,
        int(FILE_TYPES[weight_type]),
        model_name=ckpt.directory.resolve().name,
        strict=strict,
        progress=progress,
        threads=threads,
    )
    off = [r for r in records if r.role == LINEAR and r.off_grid is not None and r.off_grid > OFF_GRID_LIMIT]
    if off:
        worst = max(off, key=lambda r: r.off_grid or 0.0)
        messages.append(
            f"warning: {len(off)} linear tensor(s) are not ternary x scale (worst {worst.name}: "
            f"{worst.off_grid:.1%} of values off the grid): {weight_type} packing loses information"
        )
    return ConvertResult(records=records, arch=plan.arch, source_arch=plan.source_arch, messages=messages)
