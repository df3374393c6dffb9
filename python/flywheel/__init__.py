"""Flywheel for Python: record what your LLM features do, through
libflywheel (bounded never-blocking queue, disk spool, redaction before
anything leaves the process, a drop ledger).

Three lines instrument an OpenAI- or Anthropic-shaped client::

    import flywheel
    flywheel.init()                       # FLYWHEEL_* variables or arguments
    client = flywheel.wrap_openai(OpenAI())

Telemetry never raises into your code and never changes what your client
sends or returns; see docs/python.md.
"""
from ._core import (FlywheelError, Generation, context, copy_context_run,
                    current_context, enabled, feedback, flush, generation, init,
                    shutdown, stats)
from ._native import LibraryError
from ._wrap import wrap_anthropic, wrap_openai

__version__ = "0.2.0"

__all__ = ["init", "shutdown", "flush", "stats", "generation", "Generation",
           "feedback", "context", "current_context", "copy_context_run",
           "enabled", "wrap_openai", "wrap_anthropic", "FlywheelError",
           "LibraryError", "library_version"]


def library_version() -> str | None:
    """Version of the libflywheel that is loaded (None before init)."""
    from . import _core
    lib = _core._st.lib
    return lib.fw_version().decode() if lib is not None else None
