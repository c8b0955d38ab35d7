"""Serve the workbench on 127.0.0.1 with Panel's server (Bokeh/Tornado); all assets served locally."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from calibrate.app._page import Page, SaveHook
from calibrate.app._session import Baseline, Workbench
from calibrate.exceptions import CalibrateError

ADDRESS = "127.0.0.1"
MSG_PORT = (
    "cannot listen on {address}:{port} ({error}); pass --port with a free port, or --port 0 "
    "for any free port"
)


class ServeError(CalibrateError):
    """The workbench cannot start (e.g. its port is taken)."""


def make_app(
    baseline: Baseline, *, lang: str = "zh", out_dir: str | Path, on_save: SaveHook | None = None
) -> Callable[[], Any]:
    """A function Panel calls once per browser session: a fresh :class:`Workbench` over the shared
    baseline (the start framework is scored once, at start)."""

    def app() -> Any:
        import panel as pn

        pn.extension("tabulator", notifications=False)
        page = Page(Workbench(baseline), lang=lang, out_dir=Path(out_dir), on_save=on_save)
        return page.root

    return app


def serve(
    baseline: Baseline,
    *,
    port: int = 5006,
    lang: str = "zh",
    out_dir: str | Path = "workbench-output",
    on_save: SaveHook | None = None,
    say: Callable[[str], None] = print,
) -> None:
    """Start the server on ``127.0.0.1:port`` (0 = any free port), say the URL, serve until stopped.

    The URL is said after the server is listening: a ``GET /`` then answers with the page.
    """
    import panel as pn

    app = make_app(baseline, lang=lang, out_dir=out_dir, on_save=on_save)
    try:
        server = pn.serve(
            {"/": app},
            port=port,
            address=ADDRESS,
            websocket_origin=[f"{ADDRESS}:{port}", f"localhost:{port}"] if port else "*",
            show=False,
            start=False,
            title="积分政策试算工作台 calibrate",
            verbose=False,
        )
    except OSError as exc:
        raise ServeError(MSG_PORT.format(address=ADDRESS, port=port, error=exc.strerror)) from exc
    server.start()
    say(f"workbench: http://{ADDRESS}:{server.port}/")
    server.io_loop.start()
