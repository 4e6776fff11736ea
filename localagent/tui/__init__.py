"""The terminal UI (`localagent chat`), built on Textual."""

from localagent.tui.app import ChatApp

__all__ = ["ChatApp"]
