"""Kaltura's full-text search syntax, translated to SQLite FTS5 queries (reference §4.1).

Kaltura answers ``freeText`` and the ``*Like``/``*MultiLike*`` filters from its Sphinx index
(``configurations/sphinx/kaltura.conf.template`` L4-6: ``dict = keywords``, ``min_prefix_len = 3``,
``enable_star = 1``), with the query built by ``SphinxCriteria`` after
``KalturaCriteria::escapeString``, which escapes ``( ) | - @ ~ & / ^ $ = _ % ' < >`` (literal
characters) but leaves ``"``, ``!`` and ``*`` as query operators. What that means, and what this
module reproduces:

* A word matches only that **whole word** (case-insensitive, accents folded). A word ending in
  ``*`` matches words **starting** with it, but only when at least three characters come before
  the ``*``; a shorter starred word matches nothing (prefixes under ``min_prefix_len`` are not in
  the index). There is no other wildcard: a bare prefix never matches.
* ``freeText`` (``SphinxCriteria::addFreeTextToMatchClauseByMatchFields``, L1285-1351): a value
  that is one ``"quoted"`` string is a **whole-field** match (``^text$``: some field consists of
  exactly these words); otherwise, when the value contains a comma after its first character,
  the comma-separated parts are alternatives (OR); inside a part, space-separated words must all
  match (AND). A ``"phrase"`` inside a part must appear as a phrase, ``!word`` must not appear.
  An unbalanced ``"`` is a Sphinx syntax error (``SEARCH_ENGINE_SYNTAX_ERROR``); a part made only
  of ``!word`` terms is not computable (``SEARCH_ENGINE_QUERY_FAILED``).
* ``nameLike``/``tagsLike``/``descriptionLike``/``adminTagsLike`` (``baseObjectFilter::LIKE``,
  ``SphinxCriteria::applyFilterFields`` L957-968): a value with spaces is a phrase, otherwise a
  word - never a bare prefix.
* ``*MultiLikeOr``/``*MultiLikeAnd`` (L835-853, L935-952): comma-separated values, each a word (or
  a phrase when it has spaces), any (OR) or all (AND) of which must match. Combined fields such
  as ``tagsNameMultiLikeOr`` (L778-800) search the fields together; their value is first split on
  ``-`` (``baseObjectFilter::OR_SEPARATOR``) and re-joined with spaces, as Kaltura does.
* Words are split at characters outside letters and digits. Characters Sphinx indexes as
  "blend" characters (``_ @ - ' . `` and the like, ``blend_chars`` L9) join their parts into one
  keyword there; here such a word becomes a phrase of its parts (``0_ab12cd34`` -> ``0 ab12cd34``
  adjacent), which finds the same entries for ids, emails and hyphenated words.

A value that yields no searchable word (``*``, ``|``, ``@``, ``()``...) matches nothing. Nothing
here raises anything but ``ApiError``, so no search string can crash the server.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from .errors import ApiError

#: ``min_prefix_len`` of Kaltura's entry index.
MIN_PREFIX_LEN = 3
#: Sphinx ``blend_chars`` of Kaltura's index (``kaltura.conf.template`` L9), minus the ``*`` and
#: ``!`` query operators.
BLEND_CHARS = frozenset("$'()-/:;<=#[\\]^`{|}~%&+>?@_")
#: The columns of ``media_entries_fts`` that ``freeText`` searches (``entryFilter::FREE_TEXT_FIELDS``:
#: name, tags, description, entry id, reference id, owner puser id, owner names).
FREE_TEXT_COLUMNS = ("name", "tags", "description", "extra", "owner")

_ALNUM_RUN = re.compile(r"[^\W_]+")


class NoMatch(Exception):
    """The search can match no entry (an empty list, not an error)."""


def fold(text: str) -> str:
    """Lower-case and strip accents, like the index's ``charset_table`` (``É`` -> ``e``)."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).lower()


def words(text: str | None) -> list[str]:
    """The index words of a text: runs of letters and digits, folded."""
    return _ALNUM_RUN.findall(fold(text or ""))


def _quote(tokens: list[str], prefix: bool = False) -> str:
    """An FTS5 phrase of tokens (letters and digits only, so no quoting is needed inside)."""
    return '"' + " ".join(tokens) + '"' + ("*" if prefix else "")


@dataclass(frozen=True)
class _Word:
    """One query word: a phrase of its parts, optionally a prefix (``word*``)."""

    tokens: tuple[str, ...]
    prefix: bool

    def fts(self) -> str:
        return _quote(list(self.tokens), self.prefix)


def _split_word(raw: str) -> list[_Word]:
    """Turn one whitespace-free query word into FTS words.

    Characters that are neither letters, digits nor blend characters separate keywords (AND);
    blend characters keep their parts together as a phrase. A trailing ``*`` makes the last
    keyword a prefix, which needs ``MIN_PREFIX_LEN`` characters or matches nothing.
    """
    prefix = raw.endswith("*")
    raw = raw.rstrip("*")
    keywords: list[str] = []
    current = ""
    for ch in fold(raw):
        if ch.isalnum() or ch in BLEND_CHARS:
            current += ch
        elif current:
            keywords.append(current)
            current = ""
    if current:
        keywords.append(current)
    result = []
    for index, keyword in enumerate(keywords):
        tokens = tuple(words(keyword))
        if not tokens:
            continue
        is_prefix = prefix and index == len(keywords) - 1 and not raw.endswith(tuple(BLEND_CHARS))
        if is_prefix and len(keyword) < MIN_PREFIX_LEN:
            raise NoMatch
        result.append(_Word(tokens, is_prefix))
    return result


def _phrase(text: str) -> str | None:
    """An FTS phrase of every keyword of ``text`` (a star on the last word makes it a prefix)."""
    prefix = text.rstrip().endswith("*")
    tokens = words(text)
    if not tokens:
        return None
    if prefix and len(tokens[-1]) < MIN_PREFIX_LEN:
        raise NoMatch
    return _quote(tokens, prefix)


def _word_expression(raw: str) -> str | None:
    """The AND of the FTS words of one query word, or None when it has no keyword."""
    parts = [word.fts() for word in _split_word(raw)]
    return " AND ".join(parts) if parts else None


# -- freeText ----------------------------------------------------------------------------------


_QUOTED_WHOLE = re.compile(r'^"[^"]+"$')


@dataclass(frozen=True)
class FreeText:
    """A parsed ``freeText``: an FTS5 expression, or a whole-field match of ``whole_field``."""

    expression: str | None = None
    whole_field: tuple[str, ...] | None = None


def parse_free_text(text: str) -> FreeText:
    """Parse a ``freeText`` value (see the module docstring); ``NoMatch`` when nothing can match."""
    if _QUOTED_WHOLE.match(text):
        tokens = tuple(words(text))
        if not tokens:
            raise NoMatch
        return FreeText(whole_field=tokens)
    if text.count('"') % 2:
        raise ApiError("SEARCH_ENGINE_SYNTAX_ERROR")
    # Kaltura splits on commas only when one appears after the first character (strpos > 0).
    parts = text.split(",") if text.find(",") > 0 else [text]
    alternatives = []
    for part in parts:
        if not part:
            continue
        try:
            expression = _free_text_part(part)
        except NoMatch:
            continue
        if expression is not None:
            alternatives.append(expression)
    if not alternatives:
        raise NoMatch
    return FreeText(expression=" OR ".join(f"({a})" for a in alternatives))


_PART_TOKEN = re.compile(r'"([^"]*)"|(\S+)')


def _free_text_part(part: str) -> str | None:
    """One comma-free part: words and phrases that must all match, ``!`` terms that must not."""
    if part.count('"') % 2:
        raise ApiError("SEARCH_ENGINE_SYNTAX_ERROR")
    positive: list[str] = []
    negative: list[str] = []
    for match in _PART_TOKEN.finditer(part):
        phrase, raw = match.group(1), match.group(2)
        if phrase is not None:
            expression = _phrase(phrase)
            if expression is not None:
                positive.append(expression)
            continue
        negate = raw.startswith("!")
        raw = raw.lstrip("!")
        if not raw:
            continue
        try:
            expression = _word_expression(raw)
        except NoMatch:
            if negate:  # a term that matches nothing excludes nothing
                continue
            raise
        if expression is not None:
            (negative if negate else positive).append(expression)
    if not positive:
        if negative:
            # Sphinx: "query is non-computable (single NOT operator)".
            raise ApiError("SEARCH_ENGINE_QUERY_FAILED")
        return None
    expression = " AND ".join(positive)
    if negative:
        expression = f"({expression}) NOT ({' OR '.join(negative)})"
    return expression


# -- the *Like filters -------------------------------------------------------------------------


def _like_value(value: str) -> str | None:
    """One ``LIKE`` value: a phrase when it has spaces, else a word; never a bare prefix."""
    cleaned = value.replace('"', " ").replace("!", " ")
    if re.search(r"\s", cleaned.strip()):
        return _phrase(cleaned)
    return _word_expression(cleaned.strip())


def like_expression(value: str) -> str:
    """The FTS expression of ``nameLike``-style filters; ``NoMatch`` when nothing can match."""
    expression = _like_value(value)
    if expression is None:
        raise NoMatch
    return expression


def multi_like_expression(value: str, *, match_all: bool, combined_fields: bool = False) -> str:
    """``*MultiLikeOr`` (any) / ``*MultiLikeAnd`` (all) over comma-separated values."""
    if combined_fields:
        # SphinxCriteria::applyFilterFields: a multi-field filter's value is split on "-".
        value = " ".join(dict.fromkeys(value.split("-")))
    expressions = []
    for item in value.split(","):
        if not item:
            continue
        try:
            expression = _like_value(item)
        except NoMatch:
            if match_all:
                raise
            continue
        if expression is None:
            continue
        expressions.append(f"({expression})")
    if not expressions:
        raise NoMatch
    return (" AND " if match_all else " OR ").join(expressions)


def in_columns(columns: tuple[str, ...] | str, expression: str) -> str:
    """Restrict an FTS expression to some columns of ``media_entries_fts``."""
    names = (columns,) if isinstance(columns, str) else columns
    return "{" + " ".join(names) + "} : (" + expression + ")"


def whole_field_matches(tokens: tuple[str, ...], fields: list[str | None]) -> bool:
    """Whether one of the fields consists of exactly these words."""
    wanted = list(tokens)
    return any(words(field) == wanted for field in fields if field)
