"""A local Kaltura API v3 server that Kaltura's official clients accept.

Run it with ``python -m kaltura_sandbox serve``; see ``kaltura_sandbox/README.md``. The package is
standalone: it imports nothing from ``portal/``.
"""

__all__ = ["__version__"]

__version__ = "0.1.0"
