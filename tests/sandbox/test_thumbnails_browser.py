"""A real browser decodes the sandbox's thumbnails (issue 7 item 6): Chromium opens each JPEG,
reports its natural size, and reads its pixels, so the bytes are a picture any browser shows,
not only a header with the right numbers."""

from __future__ import annotations

import pytest

from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS

pytestmark = pytest.mark.browser

READ_PIXELS = """() => {
    const img = document.querySelector("img");
    const canvas = document.createElement("canvas");
    canvas.width = img.naturalWidth;
    canvas.height = img.naturalHeight;
    const context = canvas.getContext("2d");
    context.drawImage(img, 0, 0);
    const at = (x, y) => Array.from(context.getImageData(x, y, 1, 1).data.slice(0, 3));
    const w = img.naturalWidth, h = img.naturalHeight;
    return {width: w, height: h, corner: at(1, 1), middle: at(w >> 1, h >> 1)};
}"""


@pytest.fixture(scope="module")
def chromium():  # type: ignore[no-untyped-def]
    if not CHROMIUM.exists():
        pytest.skip(f"browser tests need Chromium at {CHROMIUM} (apt-get install chromium); CI installs it")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def test_chromium_decodes_thumbnails_of_every_type(chromium, sandbox_reset, creds):
    made = sandbox_reset.control(
        "entries", entries=[{"name": "Wide", "mediaType": 1, "width": 1920, "height": 1080, "msDuration": 60000}]
    )["ids"]
    pid = creds["partnerId"]
    base = f"{sandbox_reset.url}/p/{pid}/sp/{pid}00/thumbnail/entry_id/{made[0]}/version/1"
    page = chromium.new_page()
    try:
        cases = [
            ("/width/320/height/180/type/3", (320, 180)),
            ("/width/200/height/200", (200, 113)),  # type 1: aspect kept
            ("/width/200/height/200/type/2/bgcolor/00ff00", (200, 200)),
            ("/width/100/height/300/type/5/quality/30", (100, 300)),
            ("/width/640/vid_sec/30", (640, 360)),
        ]
        for path, size in cases:
            response = page.goto(base + path)
            assert response is not None and response.headers["content-type"] == "image/jpeg"
            seen = page.evaluate(READ_PIXELS)
            assert (seen["width"], seen["height"]) == size, path
            if "bgcolor" in path:
                # Padding above the picture is the requested colour (JPEG is lossy: close to it).
                red, green, blue = seen["corner"]
                assert green > 230 and red < 25 and blue < 25, seen
                assert seen["middle"] != seen["corner"]
    finally:
        page.close()
