"""A real browser decodes the sandbox's thumbnails (issue 7 item 6): Chromium opens each JPEG,
reports its natural size, and reads its pixels, so the bytes are a picture any browser shows,
not only a header with the right numbers."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

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


def in_chromium(urls: list[str]) -> list[dict]:
    """Open each URL in Chromium and read the image it shows (READ_PIXELS).

    Runs in a thread of its own: the browser tests' session-wide Playwright owns this thread's
    event loop, and Playwright's sync API allows one per thread.
    """
    from playwright.sync_api import sync_playwright

    def run() -> list[dict]:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            try:
                page = browser.new_page()
                seen = []
                for url in urls:
                    response = page.goto(url)
                    assert response is not None
                    seen.append({"content_type": response.headers["content-type"], **page.evaluate(READ_PIXELS)})
                return seen
            finally:
                browser.close()

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(run).result(timeout=120)


def test_chromium_decodes_thumbnails_of_every_type(sandbox_reset, creds):
    if not CHROMIUM.exists():
        pytest.skip(f"browser tests need Chromium at {CHROMIUM} (apt-get install chromium); CI installs it")
    made = sandbox_reset.control(
        "entries", entries=[{"name": "Wide", "mediaType": 1, "width": 1920, "height": 1080, "msDuration": 60000}]
    )["ids"]
    pid = creds["partnerId"]
    base = f"{sandbox_reset.url}/p/{pid}/sp/{pid}00/thumbnail/entry_id/{made[0]}/version/1"
    cases = [
        ("/width/320/height/180/type/3", (320, 180)),
        ("/width/200/height/200", (200, 113)),  # type 1: aspect kept
        ("/width/200/height/200/type/2/bgcolor/00ff00", (200, 200)),
        ("/width/100/height/300/type/5/quality/30", (100, 300)),
        ("/width/640/vid_sec/30", (640, 360)),
    ]
    seen = in_chromium([base + path for path, _ in cases])
    for (path, size), image in zip(cases, seen, strict=True):
        assert image["content_type"] == "image/jpeg", path
        assert (image["width"], image["height"]) == size, path
        if "bgcolor" in path:
            # Padding above the picture is the requested colour (JPEG is lossy: close to it).
            red, green, blue = image["corner"]
            assert green > 230 and red < 25 and blue < 25, image
            assert image["middle"] != image["corner"]
