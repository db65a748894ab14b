"""What every form shares: putting a service's FieldError on the field it names."""

from __future__ import annotations

from portal.inputs import PortalForm
from portal.validation import FieldError


def attach_error(form: PortalForm, error: FieldError, *, default: str | None = None) -> bool:
    """Show ``error`` under its field of ``form`` (or under ``default``); False when neither exists.

    The caller shows a form-level message when this returns False.
    """
    target = getattr(form, error.field or "", None) or getattr(form, default or "", None)
    if target is None or not hasattr(target, "errors"):
        return False
    target.errors = [*target.errors, error.message]
    return True
