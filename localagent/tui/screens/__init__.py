"""Screens of the chat UI, one module each."""

from localagent.tui.screens.help import HelpScreen
from localagent.tui.screens.main import MainScreen
from localagent.tui.screens.pickers import FolderScreen, PickerScreen
from localagent.tui.screens.setup import EmptyCollectionScreen, MissingModelScreen
from localagent.tui.screens.source import SourceScreen

__all__ = [
    "EmptyCollectionScreen",
    "FolderScreen",
    "HelpScreen",
    "MainScreen",
    "MissingModelScreen",
    "PickerScreen",
    "SourceScreen",
]
