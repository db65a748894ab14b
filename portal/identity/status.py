"""What a member sees on Account → Integrations → (hub): their Kaltura identity in plain words. No Flask here.

Viewing the page provisions the member on first use (and verifies a pending or failed link), then asks
Kaltura, as the member, how many entries they own and how many they can use (two ``media.list`` counts
with the client token). A Kaltura that does not answer is a problem on the page, never an error page.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from portal.identity.links import (
    BETTER_SERVER_TOKEN,
    PENDING_EXPLAINED,
    IdentityError,
    NotConnected,
    connection_for,
    drift_of,
    ensure_link,
    link_of,
    utcnow,
)
from portal.kaltura import KalturaGateway
from portal.kaltura.errors import KalturaError
from portal.kaltura.media import MediaQuery
from portal.kaltura.types import MediaType
from portal.models import Hub, IdentityState, KalturaIdentity, User


@dataclass
class MemberIntegration:
    """The member's page: everything is already in words or numbers, ready to show."""

    hub: Hub
    integration_on: bool
    integration_note: str
    link: KalturaIdentity | None = None
    owned: int | None = None
    usable: int | None = None
    checked_at: datetime | None = None
    problem: str | None = None
    what_to_do: str | None = None
    #: Shown to hub admins only: how the hub could do better (the server token's role).
    admin_advice: str | None = None
    drift_note: str | None = None

    @property
    def state_text(self) -> str | None:
        if self.link is None:
            return None
        return {
            IdentityState.EXISTED: "Your Kaltura user already existed; the portal uses it as it is.",
            IdentityState.CREATED: "Your Kaltura user was created for you.",
            IdentityState.PENDING: "Your Kaltura user will be created on your first upload.",
            IdentityState.FAILED: "Your Kaltura user could not be set up yet.",
        }[self.link.state]


def member_integration(
    db: Session, gateway: KalturaGateway, hub: Hub, user: User, *, is_admin: bool = False
) -> MemberIntegration:
    """The member's integration status for ``hub``, provisioning on first use. The caller checked membership."""
    connection = connection_for(db, hub)
    if not hub.plan.is_paid:
        return MemberIntegration(hub, False, "This hub's plan does not include the Kaltura integration.")
    if connection is None or not connection.is_complete:
        return MemberIntegration(
            hub,
            False,
            "This hub is not connected to Kaltura yet.",
            what_to_do="A hub admin can connect it in Hub settings → Integrations: Kaltura.",
        )
    status = MemberIntegration(hub, True, "The Kaltura integration is on for this hub.")
    try:
        status.link = ensure_link(db, gateway, hub, user, connection, verify=True)
    except NotConnected as error:  # the connection changed between the two reads
        return MemberIntegration(hub, False, error.message)
    except IdentityError as error:
        status.link = link_of(db, hub, user)
        status.problem = error.message
        status.what_to_do = "Try again in a few minutes. If it keeps failing, contact support and name this hub."
        status.checked_at = status.link.updated_at if status.link else utcnow()
        return status
    link = status.link
    status.checked_at = link.verified_at
    if link.state is IdentityState.PENDING:
        status.problem = PENDING_EXPLAINED
        status.what_to_do = "Nothing: upload as usual. This page shows the change after your first upload."
        if is_admin:
            status.admin_advice = BETTER_SERVER_TOKEN
    drift = drift_of(db, hub, user)
    if drift is not None:
        status.drift_note = (
            f"The hub's mapping would now give you the Kaltura id {drift.mapped_id!r}, but you keep "
            f"{drift.linked_id!r} so your media stays yours. A hub admin can move you to the new id."
        )
    client = connection.sealed_token("client")
    assert client is not None
    everything = (MediaType.VIDEO, MediaType.IMAGE, MediaType.AUDIO)
    try:
        status.usable = gateway.browse_media(
            connection.service_url, client, link.kaltura_user_id, MediaQuery(media_types=everything, page_size=1)
        ).total_count
        status.owned = gateway.browse_media(
            connection.service_url,
            client,
            link.kaltura_user_id,
            MediaQuery(media_types=everything, owner=link.kaltura_user_id, page_size=1),
        ).total_count
        status.checked_at = utcnow()
    except KalturaError as error:
        status.problem = f"Kaltura could not count your media just now: {error.summary().rstrip('.')}."
        status.what_to_do = "Reload this page in a minute. If it keeps happening, tell a hub admin."
    return status
