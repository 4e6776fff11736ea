"""Batch jobs: run one task (summarize, extract, classify) over many documents, resumably.

    from localagent.batch.runner import BatchJob, run_batch
    from localagent.batch.tasks import make_task

    job = BatchJob(inputs=[Path("invoices")], task=make_task("extract", 128, schema=schema),
                   out=Path("invoices.jsonl"), format="jsonl", engine=spec, model_sha256=digest)
    summary = run_batch(job)

Modules: tasks (what a task is; classify, extract, summarize), constrained (fast grammar-constrained
greedy decoding), records (the record and its CSV form), output (durable JSONL/CSV appends and
reading them back), journal (SQLite: what the output holds, finished work by content), memory
(RAM per worker), workers (in-process or N processes), runner (reconcile, plan, write).
Nothing is imported here, so `localagent --help` does not pay for numpy and llama.cpp.
"""
