"""Input hygiene in one place: every form reads text, and only text a person could have typed.

Every form derives from :class:`PortalForm` and uses the field classes below; ``PortalForm``
refuses to bind any other kind of field, so a new form cannot skip these checks by accident.

What the fields guarantee, whatever a client sends:

* **Text only.** A multipart *file* part (or any non-string value) under a field's name is a field
  error ("a file was sent"), never a ``FileStorage`` reaching ``.strip()`` and a 500. JSON bodies are
  not form data at all.
* **No control characters.** NUL (PostgreSQL refuses it in text), other C0/C1 controls, lone
  surrogates (they cannot be encoded to UTF-8, so the page showing them back would fail) and the
  bidirectional overrides that make text display in a different order than it is stored are a
  field error naming the character and where it is. Multi-line fields accept tabs and line breaks.
* **What a person means.** Surrounding whitespace is stripped where nobody types it on purpose
  (names, emails, URLs); never from passwords. The field shows the refused value back with each
  offending character replaced by U+FFFD, so the page can always be rendered.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any, ClassVar

from flask import has_request_context, request
from flask_wtf import FlaskForm
from flask_wtf.form import _Auto
from wtforms import fields
from wtforms.csrf.core import CSRFTokenField
from wtforms.validators import StopValidation, ValidationError

from portal.text import displayable, has_visible_text, text_problem

FILE_SENT = "This field takes typed text, but a file was sent. Type or paste the text instead."


class _TextInput:
    """Mixed into each field class: read one text value, refuse files and control characters.

    ``strip`` removes surrounding whitespace; ``multiline`` allows tabs and line breaks.
    """

    strip = True
    multiline = False
    data: Any

    def process_formdata(self, valuelist: list[Any]) -> None:
        if not valuelist:
            return
        raw = valuelist[0]
        if not isinstance(raw, str):
            self.data = ""
            raise ValueError(FILE_SENT)
        text = raw.strip() if self.strip else raw
        problem = text_problem(text, multiline=self.multiline)
        if problem:
            self.data = displayable(text, multiline=self.multiline)
            raise ValueError(problem)
        self.data = text


class TextField(_TextInput, fields.StringField):
    """One line of text, stripped."""


class EmailField(_TextInput, fields.EmailField):
    """An email address as typed, stripped; the service checks and normalises it."""


class PasswordField(_TextInput, fields.PasswordField):
    """A password, kept exactly as typed (spaces count), never shown back."""

    strip = False


class TextAreaField(_TextInput, fields.TextAreaField):
    """Several lines of text (pasted JSON, for example), stripped at both ends."""

    multiline = True


class DateField(_TextInput, fields.DateField):
    """A calendar date typed or picked as YYYY-MM-DD (what ``<input type=date>`` sends)."""

    def process_formdata(self, valuelist: list[Any]) -> None:
        super().process_formdata(valuelist)
        if not self.data:
            self.data = None
            return
        try:
            self.data = date.fromisoformat(self.data)
        except ValueError:
            self.data = None
            raise ValueError("Enter a date like 2026-05-31.") from None

    def _value(self) -> str:
        if self.raw_data and isinstance(self.raw_data[0], str):
            return displayable(self.raw_data[0])
        return self.data.isoformat() if isinstance(self.data, date) else ""


class _ChoiceInput(_TextInput):
    """A choice arrives as text like any other field; a file or control character is refused first."""

    def process_formdata(self, valuelist: list[Any]) -> None:
        if not valuelist:
            return
        super().process_formdata(valuelist)
        self.data = self.coerce(self.data)  # type: ignore[attr-defined]


class SelectField(_ChoiceInput, fields.SelectField):
    """A select box; unknown values are refused with ``invalid_choice_message`` (or ours)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("invalid_choice_message", "Choose one of the options in the list.")
        super().__init__(*args, **kwargs)


class RadioField(_ChoiceInput, fields.RadioField):
    """Radio buttons; unknown values are refused with ``invalid_choice_message`` (or ours)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("invalid_choice_message", "Choose one of the options.")
        super().__init__(*args, **kwargs)


class Required:
    """Validator: the field must have a value. Unlike WTForms' DataRequired it never hides the field's
    own error (a file sent, a control character), which says better what is wrong."""

    field_flags: ClassVar[dict[str, bool]] = {"required": True}

    def __init__(self, message: str) -> None:
        self.message = message

    def __call__(self, form: Any, field: Any) -> None:
        if field.process_errors:
            raise StopValidation()
        if not field.data or (isinstance(field.data, str) and not field.data.strip()):
            raise StopValidation(self.message)


class VisibleText:
    """Validator: the value needs at least one visible character (not only spaces or invisible marks)."""

    def __init__(self, message: str) -> None:
        self.message = message

    def __call__(self, form: Any, field: Any) -> None:
        if field.data and not has_visible_text(field.data):
            raise ValidationError(self.message)


class MaxLength:
    """Validator: at most ``limit`` characters; ``message`` may use ``{length}`` and ``{limit}`` (with digit grouping).

    Deliberately no ``maxlength`` attribute: browsers cut a longer paste silently, and the person
    would then read an error about the truncated text instead of this one.
    """

    def __init__(self, limit: int, message: str) -> None:
        self.limit = limit
        self.message = message

    def __call__(self, form: Any, field: Any) -> None:
        length = len(field.data or "")
        if length > self.limit:
            raise ValidationError(self.message.format(length=f"{length:,}", limit=f"{self.limit:,}"))


class PortalForm(FlaskForm):
    """The base of every form in the portal: form data only (no JSON), and only the fields above."""

    class Meta(FlaskForm.Meta):
        def wrap_formdata(self, form: Any, formdata: Any) -> Any:
            if formdata is _Auto and has_request_context() and request.is_json:
                # Flask-WTF would read a JSON body as form data, where values can be objects or
                # lists; the portal's forms are HTML forms, so a JSON body carries no form data.
                formdata = request.form
            return super().wrap_formdata(form, formdata)

        def bind_field(self, form: Any, unbound_field: Any, options: dict[str, Any]) -> Any:
            field_class = unbound_field.field_class
            if not issubclass(field_class, (_TextInput, CSRFTokenField)):
                raise TypeError(
                    f"{type(form).__name__} uses {field_class.__name__}: use the fields of portal.inputs, "
                    "which refuse files and control characters."
                )
            return super().bind_field(form, unbound_field, options)


def field_names(form_class: type[PortalForm]) -> Iterable[str]:
    """The names of a form class's fields (for tests that post every field)."""
    return [name for name in dir(form_class) if isinstance(getattr(form_class, name), fields.core.UnboundField)]
