"""The native half of ``backorder`` (see ``backorder/__init__.py`` for the typed API)."""

from typing import final

__all__ = ["NativeEngine", "NativeError", "__version__", "error_codes"]

__version__: str

def error_codes() -> list[tuple[str, int]]:
    """The engine's error codes as (name, number), in number order."""

class NativeError(Exception):
    """An engine error: args are (code name, code number, message)."""

@final
class NativeEngine:
    """An open engine whose calls take and answer JSON."""

    @staticmethod
    def open(url: str) -> NativeEngine: ...
    @staticmethod
    def open_simulated(url: str, simulation_json: str) -> NativeEngine: ...
    def call(self, op: str, args_json: str) -> str: ...
    def import_pending_list(self, data: bytes, options_json: str) -> str: ...
