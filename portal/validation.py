"""The one error services raise for input they refuse. No Flask here: services, views and the CLI share it."""

from __future__ import annotations


class FieldError(ValueError):
    """Input a service refuses; ``field`` names the form field at fault (``None``: the form as a whole)."""

    def __init__(self, field: str | None, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message
