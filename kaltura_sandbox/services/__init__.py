"""Every API service module; importing this package registers all actions.

The core engineer owns ``session``, ``app_token``, ``user`` and ``multirequest`` handling; the
media engineer owns ``media``, ``flavor_asset``, ``upload_token`` and ``conversion``.
"""

from . import app_token, conversion, flavor_asset, media, session, upload_token, user  # noqa: F401
