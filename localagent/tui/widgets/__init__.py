"""Widgets of the chat UI, one concern per module."""

from localagent.tui.widgets.citations import CitationChosen, CitationList
from localagent.tui.widgets.conversation import AnswerView, Conversation, UserMessage
from localagent.tui.widgets.documents import DocumentPanel
from localagent.tui.widgets.status import StatusInfo, StatusLine

__all__ = [
    "AnswerView",
    "CitationChosen",
    "CitationList",
    "Conversation",
    "DocumentPanel",
    "StatusInfo",
    "StatusLine",
    "UserMessage",
]
