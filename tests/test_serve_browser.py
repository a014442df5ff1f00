"""`qa serve` in a real browser: Debian's chromium, headless, driven by Playwright through its
`executable_path` (nothing downloads a browser). The server is the real app under uvicorn on a
free loopback port, over the seeds plus a document full of markup that must stay text."""
from __future__ import annotations

import shutil
import socket
import threading
import time

import pytest

from conftest import SEEDS_PATH

pytest.importorskip("fastapi", reason="the serve extra (fastapi) is not installed")
uvicorn = pytest.importorskip("uvicorn", reason="the serve extra (uvicorn) is not installed")
playwright_api = pytest.importorskip("playwright.sync_api", reason="playwright (the test extra) is not installed")

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(CHROMIUM is None, reason="no chromium on PATH (apt-get install chromium)")]

XSS = """title Notes on markup

The page builder Quillon shows <script>window.__pwned = 1</script> as plain text in its preview.

Its logo tag is <img src=x onerror="window.__pwned = 2"> and it never loads an image.
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory, embedder):
    from qa.config import Config
    from qa.serve import Service, create_app
    root = tmp_path_factory.mktemp("serve")
    corpus = root / "corpus"
    shutil.copytree(SEEDS_PATH, corpus, ignore=shutil.ignore_patterns("*.jsonl"))
    (corpus / "markup.txt").write_text(XSS, encoding="utf-8")
    service = Service(corpus, root / "store", Config(), watch=False).start()
    assert service.wait_ready(300) and service.qa is not None, service.error
    port = free_port()
    srv = uvicorn.Server(uvicorn.Config(create_app(service), host="127.0.0.1", port=port, log_level="warning",
                                        lifespan="off"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.time() + 30
    while not srv.started and time.time() < deadline:
        time.sleep(0.05)
    assert srv.started
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(10)
    service.stop()


@pytest.fixture(scope="module")
def browser():
    with playwright_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        yield b
        b.close()


def page_ready(page) -> None:
    """The status line names the documents once the index is open. A selector, not
    `wait_for_function`: that one polls by evaluating a string, which the page's CSP forbids."""
    page.wait_for_selector("#status:has-text('documents')", timeout=30_000)


def new_page(browser, width=1200, height=900):
    page = browser.new_page(viewport={"width": width, "height": height})
    page.errors = []
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    page.on("console", lambda m: page.errors.append(m.text) if m.type == "error" else None)
    return page


def ask(page, question: str, n: int):
    page.locator("#q").fill(question)
    page.keyboard.press("Enter")
    answers = page.locator("#turns > li .answer:not(.pending)")
    answers.nth(n - 1).wait_for(timeout=60_000)
    return answers.nth(n - 1)


def test_a_conversation_with_citations_in_place(server, browser, tmp_path):
    page = new_page(browser)
    page.goto(server + "/")
    page_ready(page)
    first = ask(page, "Who did Shoigu meet in Pyongyang?", 1)
    short = first.locator(".short").inner_text()
    mark = first.locator(".snippet.first .quote mark")
    assert short and mark.count() == 1
    assert " ".join(mark.inner_text().split()) == " ".join(short.split())

    quote = first.locator(".snippet.first .quote").inner_text()
    first.locator(".snippet.first .cite").first.click()  # the citation opens the document there
    doc = page.locator("#doc")
    doc.wait_for(state="visible")
    cited = page.locator("#doc-text .para.cited")
    cited.wait_for(timeout=10_000)
    assert cited.locator("mark").inner_text().strip() == quote.strip()
    box = cited.bounding_box()
    view = doc.bounding_box()
    assert box["y"] < view["y"] + view["height"] and box["y"] + box["height"] > view["y"]  # scrolled into view
    page.screenshot(path=str(tmp_path / "serve-document.png"))  # docs/serve.png is one of these
    page.keyboard.press("Escape")
    doc.wait_for(state="hidden")

    second = ask(page, "What is his job?", 2)  # a follow-up: "his" is the first answer's name
    assert second.inner_text()
    read_as = page.locator("#turns > li").nth(1).locator(".read-as")
    assert read_as.is_visible() and short.split()[-1] in read_as.inner_text()  # how it was read, shown
    page.screenshot(path=str(tmp_path / "serve.png"), full_page=True)
    assert (tmp_path / "serve.png").stat().st_size > 10_000
    assert page.errors == []


def test_document_markup_is_shown_as_text_and_runs_nothing(server, browser):
    page = new_page(browser)
    page.goto(server + "/")
    page_ready(page)
    a = ask(page, "What does Quillon show as plain text in its preview?", 1)
    page.evaluate("openDocument({doc: 'markup.txt', paragraph: 1, start: 0, end: 10, title: 'markup'})")
    page.locator("#doc-text .para").first.wait_for()
    text = page.locator("#doc-text").inner_text()
    assert "<script>window.__pwned = 1</script>" in text and 'onerror="window.__pwned = 2"' in text
    assert a.inner_text()
    page.wait_for_timeout(300)
    assert page.evaluate("window.__pwned") is None
    assert page.locator("#doc-text script, #doc-text img, #turns script, #turns img").count() == 0
    assert page.errors == []


def test_phone_width_and_keyboard(server, browser):
    page = new_page(browser, 390, 844)
    page.goto(server + "/")
    page_ready(page)
    assert page.evaluate("document.activeElement.id") == "q"  # type at once
    a = ask(page, "When did Shoigu arrive in Pyongyang?", 1)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # nothing wider than the phone
    a.locator(".cite").first.focus()
    page.keyboard.press("Enter")  # a citation opens from the keyboard
    doc = page.locator("#doc")
    doc.wait_for(state="visible")
    assert abs(doc.bounding_box()["width"] - 390) < 2  # the document takes the screen
    page.keyboard.press("Escape")
    doc.wait_for(state="hidden")
    assert page.evaluate("document.activeElement.className") == "cite"  # focus goes back where it was
