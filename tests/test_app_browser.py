"""The workbench in a real browser: ``calibrate serve`` started as a user would, driven by Playwright.

Needs Debian's ``chromium`` (Playwright drives it through ``executable_path``; nothing is
downloaded) and the ``playwright`` package; skipped, with the reason, without them. Every request
that leaves 127.0.0.1 is blocked and recorded, so the page is proven to work with the network
closed. The screenshot goes to ``$CALIBRATE_APP_ARTIFACTS`` (default: a ``calibrate-artifacts``
folder in the system temp folder) as ``workbench.png``.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from calibrate.report.pdf import find_chromium

playwright_api = pytest.importorskip("playwright.sync_api")
pytest.importorskip("panel")

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(find_chromium() is None, reason="headless Chromium is not installed"),
]

ARTIFACTS_ENV = "CALIBRATE_APP_ARTIFACTS"
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
LOCAL = ("http://127.0.0.1", "ws://127.0.0.1", "blob:http://127.0.0.1", "data:")
TIMEOUT_MS = 30_000


def artifacts_dir() -> Path:
    folder = os.environ.get(ARTIFACTS_ENV) or str(
        Path(tempfile.gettempdir()) / "calibrate-artifacts"
    )
    path = Path(folder)
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path, str]]:
    """``calibrate serve`` on a small synthetic panel, on a free port; yields (url, out folder,
    one enterprise id)."""
    from calibrate.synth import SynthConfig, generate

    folder = tmp_path_factory.mktemp("serve")
    panel = generate(
        SynthConfig(enterprises=300, parks=2, years=(2022, 2024), seed=5), progress=False
    )
    files = panel.write(folder / "data", fmt="csv")
    out = folder / "saved"
    cmd = [
        sys.executable,
        "-m",
        "calibrate.cli",
        "serve",
        "--framework",
        "longwan-2022",
        "--data",
        str(files["enterprises"]),
        "--events",
        str(files["events"]),
        "--target",
        "hte_certified",
        "--port",
        "0",
        "--out",
        str(out),
        "--no-track",
    ]
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=os.environ.copy()
    )
    assert proc.stdout is not None
    url = None
    seen = []
    for line in proc.stdout:
        seen.append(line)
        found = re.search(r"(http://127\.0\.0\.1:\d+/)", line)
        if found:
            url = found.group(1)
            break
    if url is None:
        proc.kill()
        pytest.fail("calibrate serve printed no URL:\n" + "".join(seen))
    try:
        yield url, out, str(panel.enterprises["enterprise_id"].iloc[0])
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        proc.stdout.close()


def test_served_html_references_no_external_url(server: tuple[str, Path, str]) -> None:
    url, _, _ = server
    html = urllib.request.urlopen(url, timeout=30).read().decode("utf-8")
    assert "<title>" in html
    external = [
        u for u in re.findall(r"(?:https?:)?//[\w.-]+[^\s\"'<>)]*", html) if "127.0.0.1" not in u
    ]
    assert external == []


def test_edit_rescores_refuses_bad_edits_switches_language_and_saves(
    server: tuple[str, Path, str],
) -> None:
    url, out, firm = server
    blocked: list[str] = []
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=find_chromium(), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1600, "height": 1400})

            def route(r: object) -> None:
                request = r.request  # type: ignore[attr-defined]
                if request.url.startswith(LOCAL):
                    r.continue_()  # type: ignore[attr-defined]
                else:
                    blocked.append(request.url)
                    r.abort()  # type: ignore[attr-defined]

            page.route("**/*", route)
            page.goto(url)
            page.wait_for_selector(".cb-points .tabulator-row", timeout=TIMEOUT_MS)
            assert "没有变化" in _read(page, ".cb-summary")
            assert "0 家进入" in _read(page, ".cb-summary")

            # a good edit: the second list grows from 10 % to 15 % — firms enter it
            page.get_by_text("榜单与补贴", exact=True).click()
            _edit_cell(page, ".cb-tiers", "racing", "top_fraction", "0.15")
            page.wait_for_selector(".cb-status >> text=已重新计分", timeout=TIMEOUT_MS)
            page.wait_for_selector(r".cb-summary >> text=/：[1-9]\d* 家进入/", timeout=TIMEOUT_MS)
            text = _read(page, ".cb-summary")
            entered = int(re.search(r"(\d+) 家进入", text).group(1))  # type: ignore[union-attr]
            assert entered > 0
            assert "没有变化" not in text

            # a bad edit: list fractions must increase — refused, with the framework's message
            _edit_cell(page, ".cb-tiers", "racing", "top_fraction", "0.01")
            page.wait_for_selector(".cb-message >> text=tiers[1].top_fraction", timeout=TIMEOUT_MS)
            assert "修改被拒绝" in _read(page, ".cb-message")
            assert f"{entered} 家进入" in _read(page, ".cb-summary")  # nothing changed

            # points below zero are refused too
            page.get_by_text("指标分值", exact=True).click()
            _edit_cell(page, ".cb-points", "rd_expense", "seed", "-1")
            page.wait_for_selector(".cb-message >> text=must be >= 0", timeout=TIMEOUT_MS)

            page.screenshot(path=str(artifacts_dir() / "workbench.png"), full_page=True)

            page.get_by_text("English", exact=True).click()
            page.wait_for_selector("text=Points-policy what-if workbench", timeout=TIMEOUT_MS)
            assert f"{entered} firms enter" in _read(page, ".cb-summary")

            # a firm: its points at start and now, and its nearest path
            page.get_by_text("Firm", exact=True).click()
            page.locator(".cb-firm-id input").fill(firm)
            page.locator(".cb-firm-search button").click()
            page.wait_for_selector(f".cb-firm-head >> text={firm}", timeout=TIMEOUT_MS)
            page.wait_for_selector(".cb-firm-points .tabulator-row", timeout=TIMEOUT_MS)

            # save: the YAML and the workbook land in --out (tracking is off in this test)
            page.get_by_text("Save", exact=True).click()
            page.locator(".cb-save button").click()
            page.wait_for_selector(".cb-saved >> text=No MLflow run", timeout=TIMEOUT_MS)
        finally:
            browser.close()
    assert blocked == []
    assert len(list(out.glob("longwan-2022-workbench-*.yaml"))) == 1
    assert len(list(out.glob("comparison-*.xlsx"))) == 1


def _read(page: object, selector: str) -> str:
    """Text of a Panel markdown pane (its paragraphs live in the pane's shadow root)."""
    return " ".join(page.locator(f"{selector} p").all_inner_texts())  # type: ignore[attr-defined]


def _edit_cell(page: object, table: str, row_text: str, field: str, value: str) -> None:
    row = page.locator(f"{table} .tabulator-row", has_text=row_text).first  # type: ignore[attr-defined]
    cell = row.locator(f".tabulator-cell[tabulator-field='{field}']")
    cell.click()
    editor = cell.locator("input")
    editor.wait_for(timeout=TIMEOUT_MS)
    editor.fill(value)
    editor.press("Enter")
