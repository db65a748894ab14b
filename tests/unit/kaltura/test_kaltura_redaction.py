"""The second line of defence: secrets are masked in any text that reaches a log or an error."""

from __future__ import annotations

import base64
import hashlib
import logging

import pytest

from portal.kaltura.redaction import MASK, RedactingFilter, install, redact_text

TOKEN = "5f0c1e2d3a4b5c6d7e8f901a2b3c4d5e"
KS_V2 = "djJ8MTIzNDU2N3yXk9c7Jm2M1GZ0-_v1pQ5YyL3n8zR4wqE2aT6uB9sD0fH1jK7lP3oI5eW8rT2yU4iO6pA=="
SIGNATURE = hashlib.sha1(b"secret1234567;1234567;1767312000;0;1234;alice;;;").hexdigest()
KS_V1 = base64.b64encode(f"{SIGNATURE}|1234567;1234567;1767312000;0;1234;alice;list:*;;".encode()).decode()
TOKEN_HASH = hashlib.sha256((KS_V2 + TOKEN).encode()).hexdigest()
CANARIES = [TOKEN, KS_V2, KS_V1, TOKEN_HASH, hashlib.sha512(TOKEN.encode()).hexdigest()]


@pytest.mark.parametrize("secret", CANARIES, ids=["app-token", "ks-v2", "ks-v1", "sha256-hash", "sha512-hash"])
@pytest.mark.parametrize(
    "template",
    ["{}", "ks={}", "value: {} trailing", '{{"tokenHash": "{}"}}', "url/ks/{}/x", 'Invalid KS "{}", Error'],
)
def test_secrets_are_masked_wherever_they_appear(secret: str, template: str) -> None:
    text = template.format(secret)

    cleaned = redact_text(text)

    assert secret not in cleaned
    assert MASK in cleaned


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("ks", "short-ks"),
        ("secret", "hunter2"),
        ("password", "pa55"),
        ("tokenHash", "abc"),
        ("Authorization", "Bearer"),
    ],
)
def test_values_after_secret_keys_are_masked(key: str, value: str) -> None:
    assert value not in redact_text(f"{key}={value}&other=1")
    assert value not in redact_text(f'"{key}": "{value}"')


@pytest.mark.parametrize(
    "text",
    [
        "kaltura call media.list failed code=INVALID_KS attempt=1 duration_ms=12",
        "entry 0_ab12cd34 for partner 1234567",
        "https://cdnapisec.kaltura.com/p/1234567/sp/123456700/thumbnail/entry_id/1_ab12cd34/version/100002",
        "App Token 0_k3v9x2ab: partner 1234567, SHA256",
    ],
)
def test_ordinary_text_is_left_alone(text: str) -> None:
    assert redact_text(text) == text


def test_the_kaltura_logger_masks_args_messages_and_tracebacks(caplog: pytest.LogCaptureFixture) -> None:
    logger = install()
    caplog.set_level(logging.DEBUG, logger="portal.kaltura")

    logger.info("minted %s with %s", KS_V2, TOKEN)
    logger.warning("hash was " + TOKEN_HASH)
    try:
        raise RuntimeError(f"boom with {KS_V1}")
    except RuntimeError:
        logger.exception("failed")

    for secret in CANARIES[:4]:
        assert secret not in caplog.text
    assert "minted [REDACTED] with [REDACTED]" in caplog.text
    assert "RuntimeError" in caplog.text


def test_install_is_idempotent() -> None:
    logger = logging.getLogger("portal.kaltura.test-install")
    install(logger)
    install(logger)

    assert sum(isinstance(f, RedactingFilter) for f in logger.filters) == 1


def test_a_broken_format_string_does_not_leak_its_arguments() -> None:
    record = logging.LogRecord("portal.kaltura", logging.INFO, __file__, 1, "%d items", (TOKEN,), None)

    RedactingFilter().filter(record)

    assert TOKEN not in record.getMessage()
