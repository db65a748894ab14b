"""Who a portal user is in Kaltura: the user-id mapping, custom rules, and the collisions they must avoid.

No Flask here. The Kaltura tab (``portal.integrations``), the Members tab (``portal.hubs``) and the
CLI share these functions, so every place that names a member's Kaltura user agrees on it. The
identity issue (pending users, provisioning) grows this package.
"""

from portal.identity.mapping import (
    KALTURA_USER_ID,
    RULE_FIELDS,
    UserIdRule,
    check_rule,
    clash_for_new_member,
    collision_errors,
    mapped_user_id,
    mapping_collisions,
)

__all__ = [
    "KALTURA_USER_ID",
    "RULE_FIELDS",
    "UserIdRule",
    "check_rule",
    "clash_for_new_member",
    "collision_errors",
    "mapped_user_id",
    "mapping_collisions",
]
