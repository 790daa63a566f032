"""A local X API v2 emulator: the stand-in for X in tests and the demo (see docs/emulator.md); and
`chat_model`, a stand-in for an OpenAI-compatible chat API (AI drafts)."""

from flockdesk.emulator.app import create_app
from flockdesk.emulator.server import EmulatorServer
from flockdesk.emulator.state import EmulatorConfig, EmulatorState

__all__ = ["EmulatorConfig", "EmulatorServer", "EmulatorState", "create_app"]
