"""The governed inference hot path: OIP v2 / KServe v1 served by a pure-ASGI middleware."""

from steward.gateway.middleware import GatewayMiddleware
from steward.gateway.serving import Gateway

__all__ = ["Gateway", "GatewayMiddleware"]
