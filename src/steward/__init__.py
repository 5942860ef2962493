"""Steward: run machine-learning models as governed, monitored production services."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
__all__ = ["Client", "__version__"]

if TYPE_CHECKING:
    from steward.client import Client


def __getattr__(name: str) -> Any:
    # The SDK is imported lazily so `import steward` stays cheap for servers and the CLI.
    if name == "Client":
        from steward.client import Client

        return Client
    raise AttributeError(name)
