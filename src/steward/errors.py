"""The project's error scheme: services raise these; one handler maps them to HTTP and CLI exits."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class FieldError:
    """One problem with one named field of a request."""

    field: str
    message: str

    def as_dict(self) -> dict[str, str]:
        """JSON-ready form."""
        return {"field": self.field, "message": self.message}


class StewardError(Exception):
    """Base of every error a service raises on purpose; carries an HTTP status and a code."""

    status_code: int = 400
    code: str = "bad_request"

    def __init__(self, message: str, *, field: str | None = None,
                 errors: list[FieldError] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.errors: list[FieldError] = list(errors or [])
        if field is not None and not self.errors:
            self.errors.append(FieldError(field, message))

    def as_dict(self) -> dict[str, object]:
        """Body of the HTTP error response; `error` is a string so OIP clients read it too."""
        body: dict[str, object] = {"error": self.message, "code": self.code}
        if self.errors:
            body["errors"] = [e.as_dict() for e in self.errors]
        return body


class InvalidInput(StewardError):
    """The request is well-formed but its content is wrong (names the field)."""

    status_code = 422
    code = "invalid_input"


class BadRequest(StewardError):
    """The request cannot be parsed at all."""

    status_code = 400
    code = "bad_request"


class NotFound(StewardError):
    """The named thing does not exist (or the caller may not know it does)."""

    status_code = 404
    code = "not_found"


class Conflict(StewardError):
    """The change contradicts the current state (duplicate name, version in use...)."""

    status_code = 409
    code = "conflict"


class Unauthenticated(StewardError):
    """No credentials, or credentials that do not identify anyone."""

    status_code = 401
    code = "unauthenticated"


class PermissionDenied(StewardError):
    """The caller is known but not allowed to do this."""

    status_code = 403
    code = "permission_denied"


class PayloadTooLarge(StewardError):
    """An upload or request body exceeds the configured limit."""

    status_code = 413
    code = "payload_too_large"


class TooManyRequests(StewardError):
    """A rate limit, budget or queue bound was hit; retry later."""

    status_code = 429
    code = "too_many_requests"

    def __init__(self, message: str, *, retry_after: float = 1.0) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class Unavailable(StewardError):
    """The service cannot answer now (overload, model not ready)."""

    status_code = 503
    code = "unavailable"

    def __init__(self, message: str, *, retry_after: float = 1.0) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class IntegrityError(StewardError):
    """Stored data failed verification (tampered or truncated artifact, broken chain)."""

    status_code = 500
    code = "integrity_error"


@dataclass
class ErrorList:
    """Collects field errors and raises them together."""

    errors: list[FieldError] = field(default_factory=list)

    def add(self, field_name: str, message: str) -> None:
        """Record one field's problem."""
        self.errors.append(FieldError(field_name, message))

    def raise_if_any(self, summary: str = "invalid input") -> None:
        """Raise `InvalidInput` naming every collected field, if any."""
        if self.errors:
            detail = "; ".join(f"{e.field}: {e.message}" for e in self.errors)
            raise InvalidInput(f"{summary}: {detail}", errors=self.errors)
