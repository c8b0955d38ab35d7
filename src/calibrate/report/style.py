"""The one style of every report plot: a CJK font shipped by ``mplfonts``, colours, PNG output.

Chinese labels need a font with CJK glyphs. The normal install brings one: the ``mplfonts``
package (a dependency) ships Noto Sans CJK SC, Source Han and SimHei font files. They are found
from the package's location (:func:`importlib.util.find_spec`, without importing ``mplfonts``),
registered once with :meth:`matplotlib.font_manager.FontManager.addfont` and put first in
``font.family``, with DejaVu Sans (matplotlib's own) as the per-glyph fallback. No system font
and no font cache step are involved.

Every plot is drawn inside :func:`context` (the rc settings below) and saved by :func:`to_png`,
which drops the PNG ``Software`` metadata so the same figure always gives the same bytes.
"""

from __future__ import annotations

import base64
import importlib.util
import io
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any, cast

import matplotlib as mpl
from matplotlib import font_manager
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.text import Text

__all__ = [
    "COLORS",
    "EXTRA_COLORS",
    "HEAT_CMAP",
    "FONT_FILES",
    "cjk_font_family",
    "cjk_font_path",
    "context",
    "font_face_css",
    "legend_overlaps_data",
    "overlapping_texts",
    "subset_font",
    "new_axes",
    "rc",
    "to_data_uri",
    "to_png",
    "use_fonts",
]

#: Font files looked for in the ``mplfonts`` package, best first (sans-serif before serif).
FONT_FILES = (
    "NotoSansCJKsc-Regular.otf",
    "SourceHanSansSC-Regular.otf",
    "NotoSansMonoCJKsc-Regular.otf",
    "SourceHanMonoSC-Regular.otf",
    "SimHei.ttf",
    "NotoSerifCJKsc-Regular.otf",
    "SourceHanSerifSC-Regular.otf",
)

MSG_NO_FONT = (
    "no CJK font found in the mplfonts package (looked for {files} under {where}); "
    "reinstall it with `pip install --force-reinstall mplfonts` so plots can show Chinese text"
)

#: Colours by role (grey / blue for old / new, green / red for gains / losses).
COLORS: dict[str, str] = {
    "current": "#8a8a8a",
    "suggested": "#1f5fa8",
    "interval": "#9cc0e6",
    "base": "#8a8a8a",
    "candidate": "#1f5fa8",
    "up": "#2e8b57",
    "down": "#c0392b",
    "total": "#34495e",
}
#: Colours of further columns (models, baselines, the oracle) in metric plots.
EXTRA_COLORS = ("#e39b2d", "#7b5ea7", "#3aa6a6", "#b5651d", "#6d8f2f", "#a83262")
#: Colour map of heat maps.
HEAT_CMAP = "Blues"

#: Resolution of embedded PNG images.
DPI = 110


def _mplfonts_dir() -> Path | None:
    spec = importlib.util.find_spec("mplfonts")
    if spec is None:
        return None
    roots = list(spec.submodule_search_locations or [])
    if not roots and spec.origin:
        roots = [str(Path(spec.origin).parent)]
    for root in roots:
        folder = Path(root) / "fonts"
        if folder.is_dir():
            return folder
    return None


@lru_cache(maxsize=1)
def cjk_font_path() -> Path:
    """Path of the CJK font file shipped by ``mplfonts`` that the plots use.

    Raises
    ------
    RuntimeError
        When ``mplfonts`` or its font files are missing (a broken install).
    """
    folder = _mplfonts_dir()
    if folder is not None:
        for name in FONT_FILES:
            path = folder / name
            if path.is_file():
                return path
    raise RuntimeError(
        MSG_NO_FONT.format(files=", ".join(FONT_FILES), where=folder or "mplfonts (not installed)")
    )


@lru_cache(maxsize=1)
def cjk_font_family() -> str:
    """Register the CJK font with matplotlib (once) and return its family name."""
    path = cjk_font_path()
    font_manager.fontManager.addfont(str(path))
    return str(font_manager.FontProperties(fname=str(path)).get_name())


def rc() -> dict[str, Any]:
    """The rc settings of report plots."""
    return {
        "font.family": [cjk_font_family(), "DejaVu Sans"],
        "font.size": 9.0,
        "axes.titlesize": 10.5,
        "axes.labelsize": 9.0,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.grid": False,
        "axes.axisbelow": True,
        "grid.color": "#e3e3e3",
        "grid.linewidth": 0.6,
        "xtick.labelsize": 8.5,
        "ytick.labelsize": 8.5,
        "legend.fontsize": 8.5,
        "legend.frameon": False,
        "figure.dpi": DPI,
        "savefig.dpi": DPI,
        "svg.hashsalt": "calibrate",  # deterministic ids should anyone save SVG
        "path.simplify": True,
        "text.parse_math": False,  # names and ids are plain text, never mathtext
    }


@contextmanager
def context() -> Iterator[None]:
    """Draw inside this context: the report font and style, restored afterwards."""
    with mpl.rc_context(cast(Any, rc())):
        yield


def use_fonts(artist: Artist) -> None:
    """Give every text in ``artist`` (an axes or a figure) the report fonts.

    A text keeps the font it was created with, so an ``ax`` made by the caller outside
    :func:`context` — and the tick labels matplotlib copies from an axis's first tick at draw
    time — would otherwise fall back to a font without Chinese glyphs.
    """
    family = rc()["font.family"]
    for text in artist.findobj(Text):
        text.set_fontfamily(family)


def new_axes(ax: Axes | None, size: tuple[float, float]) -> tuple[Figure, Axes]:
    """The figure of ``ax``, or a new figure (constrained layout) of ``size`` inches with one axes."""
    if ax is not None:
        fig = ax.get_figure(root=True)
        assert isinstance(fig, Figure)
        return fig, ax
    fig = Figure(figsize=size, layout="constrained")
    return fig, fig.add_subplot()


def to_png(fig: Figure, dpi: int = DPI) -> bytes:
    """PNG bytes of ``fig``; no ``Software`` metadata, so the bytes depend on the drawing only."""
    buf = io.BytesIO()
    with context():
        fig.savefig(buf, format="png", dpi=dpi, metadata={"Software": None}, facecolor="white")
    return buf.getvalue()


def to_data_uri(fig: Figure, dpi: int = DPI) -> str:
    """``data:image/png;base64,…`` of ``fig``, for embedding in the HTML report."""
    return "data:image/png;base64," + base64.b64encode(to_png(fig, dpi)).decode("ascii")


#: CSS family name of the font embedded in HTML reports (first in the report's font-family).
EMBEDDED_FAMILY = "calibrate-cjk"


def subset_font(text: str) -> bytes:
    """The report's CJK font cut down to the characters of ``text``, as WOFF bytes.

    fontTools (a matplotlib dependency) does the subsetting; the ``head`` timestamp is kept so
    the same text always gives the same bytes.
    """
    from fontTools import subset
    from fontTools.ttLib import TTFont

    options = subset.Options()
    options.flavor = "woff"
    options.desubroutinize = True
    options.notdef_outline = True
    buf = io.BytesIO()
    with TTFont(str(cjk_font_path()), lazy=True, recalcTimestamp=False) as font:
        subsetter = subset.Subsetter(options)
        subsetter.populate(text="".join(sorted(set(text))))
        subsetter.subset(font)
        font.flavor = "woff"
        font.save(buf)
    return buf.getvalue()


def font_face_css(text: str) -> str:
    """An ``@font-face`` rule embedding the font subset for ``text`` (base64, no external file)."""
    payload = base64.b64encode(subset_font(text)).decode("ascii")
    return (
        f'@font-face {{ font-family: "{EMBEDDED_FAMILY}"; font-style: normal; font-weight: 400; '
        f'src: url(data:font/woff;base64,{payload}) format("woff"); }}'
    )


def _renderer(fig: Figure) -> Any:
    """Draw ``fig`` on an Agg canvas (as :func:`to_png` does) and return its renderer."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = FigureCanvasAgg(fig)
    with context():
        canvas.draw()
    return canvas.get_renderer()


def _texts(fig: Figure) -> list[Text]:
    out = []
    for text in fig.findobj(Text):
        if text.get_visible() and text.get_text().strip() and text.figure is not None:
            out.append(text)
    return out


def overlapping_texts(fig: Figure, tolerance: float = 1.0) -> list[tuple[str, str]]:
    """Pairs of visible labels whose drawn boxes overlap (by more than ``tolerance`` pixels).

    The figure is drawn with matplotlib's own renderer, so the boxes are the real text extents
    in the report's font.
    """
    renderer = _renderer(fig)
    boxes = [(t.get_text(), t.get_window_extent(renderer)) for t in _texts(fig)]
    pairs = []
    for i in range(len(boxes)):
        for j in range(i + 1, len(boxes)):
            a, b = boxes[i][1], boxes[j][1]
            dx = min(a.x1, b.x1) - max(a.x0, b.x0)
            dy = min(a.y1, b.y1) - max(a.y0, b.y0)
            if dx > tolerance and dy > tolerance:
                pairs.append((boxes[i][0], boxes[j][0]))
    return pairs


def legend_overlaps_data(fig: Figure) -> bool:
    """Whether any legend box lies (partly) inside an axes' data area."""
    renderer = _renderer(fig)
    legends = [*fig.legends, *(ax.get_legend() for ax in fig.axes)]
    for legend in legends:
        if legend is None:
            continue
        box = legend.get_window_extent(renderer)
        for ax in fig.axes:
            area = ax.get_window_extent(renderer)
            if (
                min(box.x1, area.x1) - max(box.x0, area.x0) > 1
                and min(box.y1, area.y1) - max(box.y0, area.y0) > 1
            ):
                return True
    return False
