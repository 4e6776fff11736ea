"""The Ray batch worker: an actor that loads the GGUF once and runs the task on documents' text.

The actor checks, before loading, that the model file at its path has the sha256 the driver
computed (so every record of a job comes from the same model), and reports the software it runs
so the driver can refuse a node with another localagent or llama.cpp. It never reads documents:
the driver sends their pages. Plain class; ray_runner wraps it with ``ray.remote``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from localagent.batch.tasks import PROMPT_VERSION, Task
from localagent.batch.workers import EngineSpec, WorkItem, process_document
from localagent.docs import Page
from localagent.errors import LocalAgentError


def software_versions() -> dict[str, str]:
    """What must match between driver and workers for identical records."""
    import llama_cpp

    import localagent

    return {
        "localagent": localagent.__version__,
        "llama-cpp-python": llama_cpp.__version__,
        "batch prompts": str(PROMPT_VERSION),
    }


@dataclass(frozen=True)
class WorkerFacts:
    node_id: str
    pid: int
    versions: dict[str, str]
    model_path: str
    error: str | None  # why this worker cannot run the job (no model, another model, load failed)


class BatchActor:
    def __init__(self, spec: EngineSpec, task: Task, model_path: str, model_sha256: str):
        import ray

        self.spec, self.task = spec, task
        self.engine: Any = None
        error = None
        try:
            error = _model_problem(Path(model_path), model_sha256)
            if error is None:
                self.engine = replace(spec, model_path=model_path).load()
        except LocalAgentError as exc:
            error = str(exc)
        self.facts = WorkerFacts(
            node_id=ray.get_runtime_context().get_node_id(),
            pid=os.getpid(),
            versions=software_versions(),
            model_path=model_path,
            error=error,
        )

    def hello(self) -> WorkerFacts:
        return self.facts

    def process(self, item: WorkItem, pages: list[Page]) -> dict[str, Any]:
        if self.engine is None:
            raise RuntimeError(self.facts.error or "the model is not loaded")
        return process_document(self.engine, self.task, item, self.spec.model_name, pages)


def _model_problem(path: Path, expected_sha256: str) -> str | None:
    from localagent.models.checksum import sha256_file

    if not path.is_file():
        return (
            f"no model file at {path} (copy the driver's model there on every node, "
            f"or name the workers' copy with --ray-model-path)"
        )
    try:
        digest = sha256_file(path)
    except OSError as exc:
        return f"cannot read the model {path}: {exc.strerror or exc}"
    if digest != expected_sha256:
        return (
            f"{path} is another model than the driver's (sha256 {digest[:16]}..., the driver's "
            f"{expected_sha256[:16]}...); every node needs the same file"
        )
    return None


def check_worker(facts: WorkerFacts, where: str, driver_versions: dict[str, str]) -> None:
    """A one-line error if this worker cannot take part in the job."""
    if facts.error:
        raise LocalAgentError(f"Ray worker on {where}: {facts.error}")
    differ = [
        f"{name} {facts.versions.get(name, '?')} (here {version})"
        for name, version in driver_versions.items()
        if facts.versions.get(name) != version
    ]
    if differ:
        raise LocalAgentError(
            f"Ray worker on {where} runs {', '.join(differ)}; install the same localagent on every node"
        )
