"""One data function per report section (``build(ctx) -> Section``), one Jinja partial each
(``templates/sections/<id>.html.j2``). The order is :data:`calibrate.report.context.SECTIONS`."""

from __future__ import annotations

from collections.abc import Callable

from calibrate.report.context import ReportContext, Section
from calibrate.report.sections import (
    calibration,
    compare,
    edits,
    firms,
    overview,
    points,
    provenance,
    subgroups,
    uncertainty,
    warns,
)

__all__ = ["BUILDERS"]

#: Section id → its data function.
BUILDERS: dict[str, Callable[[ReportContext], Section]] = {
    "overview": overview.build,
    "points": points.build,
    "calibration": calibration.build,
    "uncertainty": uncertainty.build,
    "edits": edits.build,
    "compare": compare.build,
    "subgroups": subgroups.build,
    "firms": firms.build,
    "warnings": warns.build,
    "provenance": provenance.build,
}
