"""Who may see which entry: Kaltura's entitlement rules (reference §5).

The rules, as ``kEntitlementUtils`` and ``entryPeer::setDefaultCriteriaFilter`` apply them:

* Enforcement applies when the partner has entitlement on, unless the KS says
  ``disableentitlement``; ``enableentitlement`` turns it on and wins.
* **Lists** (``media.list``, ``baseEntry.list``): a session that is neither ADMIN nor holds
  ``list:*`` sees only entries it owns ("owner-only"), whatever the enforcement. Filters by id or
  reference id lift that restriction; each result is then checked like a single entry.
  With enforcement and ``list:*`` (or ADMIN), an entry is listed when (1) one of its categories
  carries the KS privacy context with privacy ALL, or AUTHENTICATED_USERS for a non-anonymous
  user (an entry without categories counts as the default context with ALL, which only a KS
  without ``privacycontext`` matches); or (2) the user is an entitled user: the owner, anyone in
  ``entitledUsersEdit``/``Publish``/``View``, or a member of one of the entry's categories in the
  KS context. Entries named by ``disableentitlementforentry`` are always included.
* **Single entries** (``media.get``, delivery, id-filtered lists): visible when enforcement is off,
  when the KS disables entitlement for that entry, when the user is the owner or an entitled
  user, when the entry has no category at all (treated as public, reference §5), or when one of
  its categories in the KS context is open to the user (privacy or membership).

Lists are answered from per-entry *search tokens* (what Kaltura's search index stores as
``privacy_by_contexts`` and ``entitled_kusers``): ``pc:<context>:<privacy>`` for every privacy
context of the entry with its most open privacy, and ``ku:<context>:<user>`` for every entitled
user, ``ENTRYPC`` being the context of the entry's own owner/entitled users. A listing then asks
for the tokens its KS may match, which is an index lookup.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

DEFAULT_CONTEXT = "DEFAULTPC"
ENTRY_CONTEXT = "ENTRYPC"

PRIVACY_ALL = 1
PRIVACY_AUTHENTICATED = 2
PRIVACY_MEMBERS_ONLY = 3


@dataclass(frozen=True)
class CategoryFacts:
    """What entitlement needs to know about one category of an entry."""

    privacy_context: str  # comma list; "" = the category has no privacy context
    privacy: int
    members: Sequence[str]

    def contexts(self) -> list[str]:
        """The category's privacy contexts; a category without one is in the default context."""
        names = [c.strip() for c in self.privacy_context.split(",") if c.strip()]
        return names or [DEFAULT_CONTEXT]

    def effective_privacy(self) -> int:
        """A category without a privacy context is public (ALL) in the default context."""
        return self.privacy if self.privacy_context.strip() else PRIVACY_ALL


@dataclass(frozen=True)
class Scope:
    """The entitlement-relevant facts of one request's KS.

    ``user_id`` is "" for anonymous sessions. ``contexts`` are the KS privacy contexts (the
    default context when the KS has none). ``list_all``: ADMIN session or ``list:*``.
    """

    has_ks: bool
    user_id: str
    is_admin: bool
    list_all: bool
    enforced: bool
    contexts: tuple[str, ...]
    has_privacy_context: bool
    disabled_entries: tuple[str, ...] = ()

    @property
    def anonymous(self) -> bool:
        """No user behind the KS (widget sessions, or a KS without a user id)."""
        return not self.user_id

    def privacies(self) -> tuple[int, ...]:
        """Category privacies open to this KS: ALL, plus AUTHENTICATED_USERS for a known user."""
        return (PRIVACY_ALL,) if self.anonymous else (PRIVACY_ALL, PRIVACY_AUTHENTICATED)


def scope_for(session, partner_entitlement_on: bool) -> Scope:
    """Build the scope of a validated ``context.Session`` (or None: no KS)."""
    if session is None:
        return Scope(
            has_ks=False,
            user_id="",
            is_admin=False,
            list_all=False,
            enforced=partner_entitlement_on,
            contexts=(DEFAULT_CONTEXT,),
            has_privacy_context=False,
        )
    context = (session.privacy_context or "").strip()
    return Scope(
        has_ks=True,
        user_id="" if session.is_anonymous else session.user_id,
        is_admin=session.is_admin,
        list_all=session.is_admin or session.has("list", "*"),
        enforced=session.entitlement_enforced(partner_entitlement_on),
        contexts=(context,) if context else (DEFAULT_CONTEXT,),
        has_privacy_context=bool(context),
        disabled_entries=tuple(session.values("disableentitlementforentry")),
    )


# -- search tokens (lists) ---------------------------------------------------------------------


def entry_tokens(owner: str, entitled_users: Iterable[str], categories: Sequence[CategoryFacts]) -> set[str]:
    """The search tokens of one entry (see the module docstring)."""
    tokens: set[str] = set()
    most_open: dict[str, int] = {}
    if not categories:
        most_open[DEFAULT_CONTEXT] = PRIVACY_ALL
    for category in categories:
        for context in category.contexts():
            privacy = category.effective_privacy()
            most_open[context] = min(most_open.get(context, privacy), privacy)
            tokens.update(f"ku:{context}:{member}" for member in category.members)
    tokens.update(f"pc:{context}:{privacy}" for context, privacy in most_open.items())
    tokens.update(f"ku:{ENTRY_CONTEXT}:{user}" for user in (owner, *entitled_users) if user)
    return tokens


def scope_tokens(scope: Scope) -> list[str]:
    """The search tokens an entitled listing of this scope matches."""
    tokens = [f"pc:{c}:{p}" for c in scope.contexts for p in scope.privacies()]
    if scope.user_id:
        tokens += [f"ku:{c}:{scope.user_id}" for c in scope.contexts]
        tokens.append(f"ku:{ENTRY_CONTEXT}:{scope.user_id}")
    return tokens


@dataclass(frozen=True)
class ListRestriction:
    """How a listing is restricted, as SQL on ``media_entries e``.

    ``owner``: only entries of this owner ("" for none at all); ``tokens``: only entries with
    one of these search tokens; neither: no restriction. ``disabled_entries`` are always
    included. ``check_each``: every result must also pass the single-entry check.
    """

    owner: str | None = None
    tokens: tuple[str, ...] = ()
    disabled_entries: tuple[str, ...] = ()
    check_each: bool = False

    def sql(self, *, for_count: bool) -> tuple[str | None, tuple]:
        """The condition and its parameters.

        Counting takes the token matches as one set (``IN``): cheapest when every row is
        examined. A page takes a per-row ``EXISTS`` probe, so an ordered ``LIMIT`` query stops
        after the rows it needs instead of building the whole set first.
        """
        params: tuple[str, ...]
        if self.owner is not None:
            condition, params = ("e.user_id = ?", (self.owner,)) if self.owner else ("0", ())
        elif self.tokens:
            marks = ",".join("?" * len(self.tokens))
            if for_count:
                condition = f"e.seq IN (SELECT entry_seq FROM media_entry_access WHERE token IN ({marks}))"
            else:
                condition = (
                    f"EXISTS (SELECT 1 FROM media_entry_access a WHERE a.entry_seq = e.seq AND a.token IN ({marks}))"
                )
            params = self.tokens
        else:
            return None, ()
        if self.disabled_entries:
            marks = ",".join("?" * len(self.disabled_entries))
            condition = f"({condition}) OR e.id IN ({marks})"
            params = (*params, *self.disabled_entries)
        return condition, params


def list_restriction(scope: Scope, filters_by_id: bool) -> ListRestriction:
    """The restriction of ``media.list``/``baseEntry.list`` for this scope.

    ``filters_by_id``: the filter has idEqual/idIn/referenceIdEqual/referenceIdIn, which lifts the
    owner-only restriction (results are then checked one by one when enforcement is on).
    """
    if not scope.list_all:
        if filters_by_id:
            return ListRestriction(check_each=scope.enforced)
        return ListRestriction(owner=scope.user_id, disabled_entries=scope.disabled_entries)
    if not scope.enforced:
        return ListRestriction()
    return ListRestriction(tokens=tuple(scope_tokens(scope)), disabled_entries=scope.disabled_entries)


# -- single entries ----------------------------------------------------------------------------


def entry_visible(
    scope: Scope,
    *,
    entry_id: str,
    owner: str,
    entitled_users: Iterable[str],
    categories: Sequence[CategoryFacts],
) -> bool:
    """Whether one entry is visible to this scope (``kEntitlementUtils::isEntryEntitled``)."""
    if not scope.enforced:
        return True
    if entry_id in scope.disabled_entries:
        return True
    if scope.user_id and (scope.user_id == owner or scope.user_id in set(entitled_users)):
        return True
    if not categories:
        return True
    contexts = scope.contexts if scope.has_ks else (DEFAULT_CONTEXT,)
    for category in categories:
        if not set(category.contexts()) & set(contexts):
            continue
        if category.effective_privacy() in scope.privacies():
            return True
        if scope.user_id and scope.user_id in category.members:
            return True
    return False


def may_edit(session, *, entry_id: str, owner: str, entitled_edit: Iterable[str]) -> bool:
    """Whether the KS may change an entry (``@validateUser entry entryId edit``).

    ADMIN sessions, the owner, ``edit:<entryId>``/``edit:*`` and users in ``entitled_edit``
    (``entitledUsersEdit``; pass none for ``ownerOnly`` actions) may; everyone else gets
    ``INVALID_KS "", "-4,INVALID_TYPE"``.
    """
    if session is None:
        return False
    if session.is_admin or session.has("edit", entry_id):
        return True
    user = "" if session.is_anonymous else session.user_id
    return bool(user) and (user == owner or user in set(entitled_edit))
