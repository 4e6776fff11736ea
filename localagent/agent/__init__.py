"""Grounded answers from the indexed documents, with citations, verification and refusal.

    from localagent.agent import Answerer
    answer = Answerer(engine, index, config).ask("When does the lease end?", on_token=print)

The agent loop (tools search/read/list_documents/answer under JSON-Schema grammars) lives in
localagent.agent.loop.
"""

from localagent.agent.answerer import Answerer
from localagent.agent.context import build_sources
from localagent.agent.prompts import chat_messages, completion_prompt, format_sources, parse_reply
from localagent.agent.retrieval import BM25Retriever, Retriever
from localagent.agent.types import NOT_FOUND, Answer, Citation, Source, Timings
from localagent.agent.verify import Verdict, verify

__all__ = [
    "NOT_FOUND",
    "Answer",
    "Answerer",
    "BM25Retriever",
    "Citation",
    "Retriever",
    "Source",
    "Timings",
    "Verdict",
    "build_sources",
    "chat_messages",
    "completion_prompt",
    "format_sources",
    "parse_reply",
    "verify",
]
