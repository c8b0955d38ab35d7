"""The report in a real browser: headless Chromium renders every section and image, and prints a PDF.

Needs Debian's ``chromium`` (or ``$CALIBRATE_CHROMIUM``); skipped without it. The screenshot is
kept under ``tmp_path``; set ``CALIBRATE_REPORT_ARTIFACTS=1`` to also copy it to
``tests/artifacts/report.png``.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import struct
import sys
from pathlib import Path
from types import ModuleType

import pytest

from calibrate.report import SECTIONS, build_report
from calibrate.report.pdf import find_chromium, run_chromium

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(find_chromium() is None, reason="headless Chromium is not installed"),
]

ARTIFACTS_ENV = "CALIBRATE_REPORT_ARTIFACTS"
ARTIFACT = Path(__file__).parent / "artifacts" / "report.png"

#: Appended to a copy of the report (the report itself has no script): after load, write what
#: rendered into the DOM, which ``--dump-dom`` prints.
PROBE = """
<script>
window.addEventListener("load", function () {
  var out = [];
  document.querySelectorAll("section.report-section").forEach(function (s) {
    var h = s.querySelector("h2");
    out.push(["section", s.id, s.offsetHeight, h ? h.offsetHeight : 0].join(" "));
  });
  document.querySelectorAll("img").forEach(function (im, i) {
    out.push(["image", i, im.complete ? 1 : 0, im.naturalWidth, im.naturalHeight, im.offsetWidth].join(" "));
  });
  var pre = document.createElement("pre");
  pre.id = "render-probe";
  pre.textContent = out.join("\\n");
  document.body.appendChild(pre);
});
</script>
"""


def _report_module() -> ModuleType:
    """``test_report`` (already imported by pytest, or loaded from beside this file)."""
    if "test_report" in sys.modules:
        return sys.modules["test_report"]
    spec = importlib.util.spec_from_file_location(
        "test_report", Path(__file__).with_name("test_report.py")
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["test_report"] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    objs = _report_module().report_objects()
    out = tmp_path_factory.mktemp("browser") / "report.html"
    built = build_report(objs.inputs, out, lang="zh", pdf=True)
    assert built.pdf is not None
    return built.html, built.pdf


def test_every_section_and_image_renders(files: tuple[Path, Path], tmp_path: Path) -> None:
    html_path, _ = files
    page = html_path.read_text(encoding="utf-8")
    n_images = page.count('src="data:image/png;base64,')
    probe = tmp_path / "probe.html"
    probe.write_text(page.replace("</body>", PROBE + "</body>"), encoding="utf-8")
    proc = run_chromium(
        ["--window-size=1280,4000", "--virtual-time-budget=5000", "--dump-dom"], probe
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    found = re.search(r'<pre id="render-probe">(.*?)</pre>', proc.stdout, re.S)
    assert found, "the probe did not run"
    lines = [ln.split() for ln in found.group(1).strip().splitlines()]
    sections = {ln[1]: (int(ln[2]), int(ln[3])) for ln in lines if ln[0] == "section"}
    assert list(sections) == list(SECTIONS)
    for sid, (height, heading) in sections.items():
        assert height > 0 and heading > 0, sid
    images = [ln for ln in lines if ln[0] == "image"]
    assert len(images) == n_images == 14
    for _, i, complete, width, height, shown in images:
        assert complete == "1" and int(width) > 100 and int(height) > 100 and int(shown) > 100, i


def _png_size(path: Path) -> tuple[int, int]:
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", head[16:24])
    return width, height


def test_screenshot(files: tuple[Path, Path], tmp_path: Path) -> None:
    html_path, _ = files
    shot = tmp_path / "report.png"
    proc = run_chromium(
        ["--window-size=1280,4000", "--hide-scrollbars", f"--screenshot={shot}"], html_path
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert _png_size(shot) == (1280, 4000)
    assert shot.stat().st_size > 100_000  # text and plots, not a blank page
    if os.environ.get(ARTIFACTS_ENV):
        ARTIFACT.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shot, ARTIFACT)


def test_pdf(files: tuple[Path, Path]) -> None:
    _, pdf = files
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF")
    pages = len(re.findall(rb"/Type\s*/Page\b(?!s)", data))
    assert pages > 1
    # the CJK font is embedded as a subset ("ABCDEF+" prefix), so the PDF reads the same anywhere
    assert re.search(rb"/FontName\s*/[A-Z]{6}\+NotoSansCJKsc-Regular", data)
