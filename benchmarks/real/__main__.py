"""``python -m benchmarks.real --out FILE``: see :mod:`benchmarks.real.run`."""

from benchmarks.real.run import main

raise SystemExit(main())
