"""Which characters a person can type, checked without Flask so services and the CLI share it.

:mod:`portal.inputs` applies these checks to every form field; services use them for input that
arrives another way (the ``portal`` command, for example).
"""

from __future__ import annotations

import unicodedata

REPLACEMENT = "\ufffd"

# Characters that reorder how text is displayed (Trojan-Source style spoofing): LRE, RLE, PDF,
# LRO, RLO and the isolates LRI, RLI, FSI, PDI.
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_LINE_BREAKS = frozenset("\r\n")


def _describe(char: str) -> str:
    code = ord(char)
    if code == 0:
        return "a NUL character (U+0000)"
    if char == REPLACEMENT:
        return "a character that could not be read (U+FFFD: what was sent was not valid UTF-8 text)"
    if 0xD800 <= code <= 0xDFFF:
        return f"an unpaired surrogate (U+{code:04X}), which is not a real character"
    if char in BIDI_CONTROLS:
        return f"an invisible text-direction control (U+{code:04X})"
    return f"an invisible control character (U+{code:04X})"


def is_refused(char: str, *, multiline: bool = False) -> bool:
    """Whether ``char`` is refused in a form field (``multiline`` allows line breaks)."""
    if char == "\t" or (multiline and char in _LINE_BREAKS):
        return False
    # U+FFFD is what the server's decoding makes of bytes that are not UTF-8 (a lone surrogate
    # sent as bytes, for example): browsers never send such text, so it is refused like the rest.
    return unicodedata.category(char) in ("Cc", "Cs") or char in BIDI_CONTROLS or char == REPLACEMENT


def text_problem(text: str, *, multiline: bool = False) -> str | None:
    """The first refused character in ``text``, described for a person, or ``None`` when it is clean."""
    for position, char in enumerate(text, 1):
        if is_refused(char, multiline=multiline):
            return (
                f"This contains {_describe(char)} at character {position}, which cannot be typed. "
                "Remove it (retyping the text usually does) and try again."
            )
    return None


def displayable(text: str, *, multiline: bool = False) -> str:
    """``text`` with every refused character replaced by U+FFFD, safe to render back into the page (and store)."""
    return "".join(REPLACEMENT if is_refused(char, multiline=multiline) else char for char in text)


def has_visible_text(text: str) -> bool:
    """Whether ``text`` has at least one character a reader can see (not only spaces or format marks)."""
    return any(unicodedata.category(char)[0] not in ("Z", "C") for char in text)
