"""Extensions, created unbound; ``create_app`` binds them in order."""

from __future__ import annotations

from flask import request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect
from htmx_flask import Htmx

login_manager = LoginManager()
login_manager.login_view = "accounts.login"
login_manager.login_message = "Please sign in to see that page."
login_manager.login_message_category = "info"

csrf = CSRFProtect()
htmx = Htmx()

# Keys come from the socket address; behind a proxy, ProxyFix (PORTAL_PROXY_HOPS) sets it from a
# trusted number of X-Forwarded-For hops, so a spoofed header cannot pick the key.
limiter = Limiter(key_func=get_remote_address, default_limits=[], headers_enabled=True)


def attempted_email() -> str:
    """The email a sign-in form was posted with, as accounts are stored (trimmed, lower case, bounded)."""
    value = request.form.get("email", "")
    return value.strip().lower()[:320] if isinstance(value, str) else ""


def login_account_key() -> str:
    """Rate-limit key for sign-in attempts against one account, whatever address they come from."""
    return "account:" + attempted_email()


def login_account_address_key() -> str:
    """Rate-limit key for sign-in attempts against one account from one client address."""
    return f"account:{attempted_email()}|address:{get_remote_address()}"
