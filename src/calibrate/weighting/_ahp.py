"""Analytic hierarchy process (层次分析法): pairwise comparisons in YAML → weights, checked for consistency.

File format (``schema: calibrate/ahp@1``; YAML read with a safe loader only, duplicate keys refused)::

    schema: calibrate/ahp@1
    description: why these judgements        # optional
    criteria: [rd_intensity, invention_patent_apps, revenue_growth]
    matrix:                                  # upper triangle, row by row, diagonal included
      - [1, 3, 5]                            # rd_intensity vs itself, vs patents, vs growth
      - [1, 2]                               # patents vs itself, vs growth
      - [1]

Entries are Saaty's scale: a whole number 1–9 (the row criterion is that much more important than
the column criterion) or its reciprocal written ``1/2`` … ``1/9``; the lower triangle is implied
(a_ji = 1 / a_ij). The full n × n matrix may be given instead (it must then be reciprocal).

A two-level hierarchy compares groups first, then the indicators within each group::

    criteria: [tech, growth]                 # core group ids
    matrix: [[1, 3], [1]]
    within:
      tech:   {criteria: [rd_intensity, invention_patent_apps], matrix: [[1, 2], [1]]}
      growth: {criteria: [revenue_growth], matrix: [[1]]}    # optional for a one-indicator group

An indicator's global weight is its group's weight times its weight within the group.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from calibrate.exceptions import ConstraintError, Problem
from calibrate.framework import read_yaml_file

if TYPE_CHECKING:
    import pandas as pd

    from calibrate.framework import Framework

__all__ = ["AHP_SCHEMA", "MAX_CR", "RANDOM_INDEX", "AHPError", "AHPMatrix"]

AHP_SCHEMA = "calibrate/ahp@1"

#: Consistency ratios above this are refused (Saaty's 10 % rule).
MAX_CR = 0.10

#: Saaty's random consistency index RI for n = 1 … 15 (T. L. Saaty, *The Analytic Hierarchy
#: Process*, McGraw-Hill 1980; the values for n ≤ 10 also in Saaty, "How to make a decision",
#: *European Journal of Operational Research* 48 (1990) 9–26).
RANDOM_INDEX: dict[int, float] = {
    1: 0.0, 2: 0.0, 3: 0.58, 4: 0.90, 5: 1.12, 6: 1.24, 7: 1.32, 8: 1.41,
    9: 1.45, 10: 1.49, 11: 1.51, 12: 1.48, 13: 1.56, 14: 1.57, 15: 1.59,
}  # fmt: skip

# Messages are constants so tests compare them exactly.
MSG_CR = (
    "consistency ratio {cr:.2f} > {max_cr:.2f}; revise the comparisons (the most inconsistent pair is "
    "{a} vs {b}: entered {entered}, the other judgements imply about {implied})"
)
MSG_SAATY = "{found!r} is not on Saaty's 1–9 scale; write a whole number from 1 to 9 or its reciprocal 1/2 … 1/9"
MSG_SHAPE = (
    "expected the upper triangle row by row ({n} rows of lengths {upper}: each row starts at the "
    "diagonal) or the full {n} × {n} matrix; found rows of lengths {found}"
)
MSG_DIAGONAL = "the diagonal compares {ident} with itself and must be 1, found {found!r}"
MSG_RECIPROCAL = (
    "a full matrix must be reciprocal: entry ({i}, {j}) is {a!r} but ({j}, {i}) is {b!r}, not 1/{a!r}; "
    "or give only the upper triangle"
)
MSG_TOO_MANY = (
    "{n} criteria in one matrix; Saaty's random index is tabulated up to 15 — split them into "
    "groups and compare within groups ('within')"
)
MSG_NO_CRITERIA = "expected a non-empty list of distinct ids, found {found!r}"
MSG_DUPLICATE = "{ident!r} is listed twice; each criterion appears once"
MSG_UNKNOWN_KEY = "unknown key {key!r}; allowed keys: {allowed}"
MSG_MISSING_KEY = "required key {key!r} is missing"
MSG_SCHEMA = "schema must be {expected!r}, found {found!r}"
MSG_WITHIN_UNKNOWN = "{ident!r} is not one of the criteria ({criteria}); 'within' takes the criteria of the upper level"
MSG_NESTED = "only two levels are supported: a matrix inside 'within' cannot have its own 'within'"
# -- against a framework
MSG_NOT_INDICATOR = "{ident!r} is not an indicator of framework {fw}; core indicators are {core}"
MSG_BONUS = (
    "{ident!r} is a bonus indicator of framework {fw}; bonus indicators keep their points and are not "
    "weighted — leave it out"
)
MSG_MISSING_CORE = (
    "core indicator(s) {ids} of framework {fw} are not compared; every core indicator needs a weight — "
    "add them to the criteria"
)
MSG_NOT_GROUP = "{ident!r} is not a core group of framework {fw}; core groups are {groups}"
MSG_MISSING_GROUP = (
    "core group(s) {ids} of framework {fw} are not compared; add them to the criteria"
)
MSG_WRONG_GROUP = "{ident!r} belongs to group {actual!r}, not {group!r}; move it to within.{actual}"
MSG_WITHIN_MISSING = (
    "group {group!r} has {n} core indicators ({ids}); give their comparisons under within.{group}"
)

_RECIPROCAL = re.compile(r"^\s*1\s*/\s*([1-9])\s*$")
_TOP_KEYS = {"schema", "description", "criteria", "matrix", "within"}
_WITHIN_KEYS = {"criteria", "matrix", "description"}


class AHPError(ConstraintError):
    """An AHP comparison file is invalid or too inconsistent; ``problems`` name each YAML path."""

    kind = "AHP"


def _saaty(value: Any) -> float | None:
    """The Saaty-scale number a YAML value stands for, or ``None``.

    Decimals close to a reciprocal (0.333, 0.143) are read as that reciprocal (within 1 %).
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        match = _RECIPROCAL.match(value)
        if match:
            return 1.0 / int(match.group(1))
        try:
            value = float(value)
        except ValueError:
            return None
    if not isinstance(value, int | float) or not math.isfinite(value) or value <= 0:
        return None
    if value >= 1:
        return float(value) if float(value).is_integer() and value <= 9 else None
    k = round(1.0 / value)
    if 2 <= k <= 9 and abs(1.0 / value - k) <= 0.01 * k:
        return 1.0 / k
    return None


def _show(value: float) -> str:
    """A matrix entry as a user wrote it: ``5`` or ``1/5``."""
    if value >= 1:
        return f"{value:g}"
    return f"1/{1.0 / value:g}"


def _show_ratio(value: float) -> str:
    if value >= 1:
        return f"{value:.1f}"
    return f"1/{1.0 / value:.1f}"


def _join(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


@dataclass(frozen=True, eq=False)
class AHPMatrix:
    """A pairwise comparison matrix with its priority weights and consistency.

    Build one with :meth:`from_yaml` (a file) or :meth:`from_dict`.

    Attributes
    ----------
    criteria : tuple of str
        Indicator ids, or core group ids for a two-level hierarchy.
    matrix : ndarray, shape (n, n)
        The full reciprocal matrix, ``matrix[i, j]`` = importance of criterion i over j.
    within : mapping of str to AHPMatrix
        Matrices within the groups (two-level hierarchy only).
    source : str
        The file the matrix came from (used in messages).
    where : str
        YAML path of this matrix in its file (``""`` at the top, ``"within.tech"`` inside).
    """

    criteria: tuple[str, ...]
    matrix: npt.NDArray[np.float64] = field(repr=False)
    within: Mapping[str, AHPMatrix] = field(default_factory=dict)
    source: str = "<ahp>"
    where: str = ""

    # -- construction -----------------------------------------------------------------------------
    @classmethod
    def from_yaml(
        cls, path: str | Path, *, framework: Framework | None = None, max_cr: float | None = MAX_CR
    ) -> AHPMatrix:
        """Read and check a comparison file.

        Parameters
        ----------
        path : str or Path
            The YAML file (format in the module docstring).
        framework : Framework, optional
            When given, the criteria must be exactly its core indicators (or core groups, each
            with its core indicators ``within``).
        max_cr : float or None
            Refuse a matrix whose consistency ratio exceeds this; ``None`` loads it anyway (to
            inspect an inconsistent matrix; weighting still checks it).

        Raises
        ------
        AHPError
            Every problem in the file at once, each with its YAML path; or a consistency ratio
            above ``max_cr``, naming the most inconsistent pair.
        """
        path = Path(path)
        source = str(path)
        document = read_yaml_file(path, AHPError)  # safe loader; duplicate keys refused
        return cls.from_dict(document, source=source, framework=framework, max_cr=max_cr)

    @classmethod
    def from_dict(
        cls,
        document: Any,
        *,
        source: str = "<ahp>",
        framework: Framework | None = None,
        max_cr: float | None = MAX_CR,
    ) -> AHPMatrix:
        """Build from a parsed document (same format and checks as :meth:`from_yaml`)."""
        problems: list[Problem] = []
        if not isinstance(document, Mapping):
            raise AHPError(
                source,
                [
                    Problem(
                        "<top>",
                        f"expected a mapping with criteria and matrix, "
                        f"found {type(document).__name__}",
                    )
                ],
            )
        schema = document.get("schema", AHP_SCHEMA)
        if schema != AHP_SCHEMA:
            problems.append(Problem("schema", MSG_SCHEMA.format(expected=AHP_SCHEMA, found=schema)))
        result = _read_level(document, "", source, _TOP_KEYS, problems)
        within: dict[str, AHPMatrix] = {}
        raw_within = document.get("within")
        if raw_within is not None:
            if not isinstance(raw_within, Mapping):
                problems.append(Problem("within", "expected a mapping of group id to comparisons"))
            else:
                for key, sub in raw_within.items():
                    where = _join("within", str(key))
                    if result is not None and key not in result.criteria:
                        problems.append(
                            Problem(
                                where,
                                MSG_WITHIN_UNKNOWN.format(
                                    ident=key, criteria=", ".join(result.criteria)
                                ),
                            )
                        )
                    if isinstance(sub, Mapping) and "within" in sub:
                        problems.append(Problem(_join(where, "within"), MSG_NESTED))
                        continue
                    level = _read_level(sub, where, source, _WITHIN_KEYS, problems)
                    if level is not None:
                        within[str(key)] = level
        if problems or result is None:
            raise AHPError(source, problems)
        out = cls(result.criteria, result.matrix, within, source, "")
        if framework is not None:
            out.validate(framework)
        if max_cr is not None:
            out.check(max_cr)
        return out

    # -- the numbers --------------------------------------------------------------------------------
    @cached_property
    def _eigen(self) -> tuple[npt.NDArray[np.float64], float]:
        n = len(self.criteria)
        if n == 1:
            return np.ones(1), 1.0
        values, vectors = np.linalg.eig(self.matrix)
        top = int(np.argmax(values.real))  # Perron root: real, simple, the largest
        w = np.abs(vectors[:, top].real)
        return w / w.sum(), float(values[top].real)

    @property
    def n(self) -> int:
        return len(self.criteria)

    @property
    def weights(self) -> pd.Series:
        """Priority weights of the criteria (principal right eigenvector, summing to 1)."""
        import pandas as pd

        return pd.Series(self._eigen[0], index=list(self.criteria), name="weight")

    @property
    def lambda_max(self) -> float:
        """The principal eigenvalue λ_max (= n for a perfectly consistent matrix)."""
        return self._eigen[1]

    @property
    def ci(self) -> float:
        """Consistency index CI = (λ_max − n) / (n − 1); 0 for n ≤ 2."""
        if self.n <= 2:
            return 0.0
        return max(self.lambda_max - self.n, 0.0) / (self.n - 1)

    @property
    def ri(self) -> float:
        """Saaty's random index for this n."""
        return RANDOM_INDEX[self.n]

    @property
    def cr(self) -> float:
        """Consistency ratio CR = CI / RI; 0 for n ≤ 2 (always consistent)."""
        return self.ci / self.ri if self.ri > 0 else 0.0

    @property
    def hierarchy_cr(self) -> float:
        """Overall consistency of a two-level hierarchy, Σ w_g CI_g / Σ w_g RI_g (this CR when flat).

        The upper level's own CR is checked separately; this is the "total ranking" (层次总排序)
        ratio of the lower level.
        """
        if not self.within:
            return self.cr
        w = self.weights
        num = sum(w[g] * m.ci for g, m in self.within.items())
        den = sum(w[g] * m.ri for g, m in self.within.items())
        return float(num / den) if den > 0 else 0.0

    def most_inconsistent_pair(self) -> tuple[str, str, float, float]:
        """The pair (a, b) whose entry departs most from what the weights imply.

        Returns
        -------
        tuple
            ``(a, b, entered, implied)``: the ids, the entered a_ab and the ratio w_a / w_b.
            The pair maximises |ln(a_ab · w_b / w_a)| over the upper triangle.
        """
        w = self._eigen[0]
        implied = w[:, None] / w[None, :]
        error = np.abs(np.log(self.matrix / implied))
        iu = np.triu_indices(self.n, k=1)
        pos = int(np.argmax(error[iu]))
        i, j = int(iu[0][pos]), int(iu[1][pos])
        return self.criteria[i], self.criteria[j], float(self.matrix[i, j]), float(implied[i, j])

    def levels(self) -> list[AHPMatrix]:
        """This matrix and the matrices within its groups, top first."""
        return [self, *self.within.values()]

    def consistency(self) -> pd.DataFrame:
        """λ_max, CI, RI and CR of every matrix in the file, one row per matrix."""
        import pandas as pd

        rows = [
            {
                "matrix": m.where or "matrix",
                "n": m.n,
                "lambda_max": m.lambda_max,
                "ci": m.ci,
                "ri": m.ri,
                "cr": m.cr,
            }
            for m in self.levels()
        ]
        return pd.DataFrame(rows).set_index("matrix")

    def check(self, max_cr: float = MAX_CR) -> AHPMatrix:
        """Raise :class:`AHPError` if any matrix's consistency ratio exceeds ``max_cr``; else return self."""
        problems = []
        for m in self.levels():
            if m.cr > max_cr:
                a, b, entered, implied = m.most_inconsistent_pair()
                problems.append(
                    Problem(
                        _join(m.where, "matrix"),
                        MSG_CR.format(
                            cr=m.cr,
                            max_cr=max_cr,
                            a=a,
                            b=b,
                            entered=_show(entered),
                            implied=_show_ratio(implied),
                        ),
                    )
                )
        if problems:
            raise AHPError(self.source, problems)
        return self

    # -- against a framework ---------------------------------------------------------------------
    @property
    def is_hierarchy(self) -> bool:
        """True when the criteria are groups (the file has ``within``)."""
        return bool(self.within)

    def validate(self, framework: Framework) -> AHPMatrix:
        """Check the criteria against ``framework``'s core indicators (or core groups); return self.

        Raises
        ------
        AHPError
            Every unknown, bonus, misplaced or missing id.
        """
        fw = framework.id
        core = framework.core_indicator_ids
        problems: list[Problem] = []

        def check_indicators(ids: tuple[str, ...], where: str, expected: tuple[str, ...]) -> None:
            for pos, ident in enumerate(ids):
                place = f"{_join(where, 'criteria')}[{pos}]"
                if ident in expected:
                    continue
                if ident not in framework.indicator_ids:
                    problems.append(
                        Problem(
                            place,
                            MSG_NOT_INDICATOR.format(ident=ident, fw=fw, core=", ".join(core)),
                        )
                    )
                elif ident not in core:
                    problems.append(Problem(place, MSG_BONUS.format(ident=ident, fw=fw)))
                else:
                    actual = framework.indicator(ident).group
                    group = where.removeprefix("within.")
                    problems.append(
                        Problem(
                            place, MSG_WRONG_GROUP.format(ident=ident, actual=actual, group=group)
                        )
                    )
            missing = [i for i in expected if i not in ids]
            if missing:
                problems.append(
                    Problem(
                        _join(where, "criteria"),
                        MSG_MISSING_CORE.format(ids=", ".join(missing), fw=fw),
                    )
                )

        if not self.is_hierarchy:
            check_indicators(self.criteria, "", core)
        else:
            groups = tuple(g.id for g in framework.groups if g.kind == "core")
            for pos, ident in enumerate(self.criteria):
                if ident not in groups:
                    problems.append(
                        Problem(
                            f"criteria[{pos}]",
                            MSG_NOT_GROUP.format(ident=ident, fw=fw, groups=", ".join(groups)),
                        )
                    )
            missing = [g for g in groups if g not in self.criteria]
            if missing:
                problems.append(
                    Problem("criteria", MSG_MISSING_GROUP.format(ids=", ".join(missing), fw=fw))
                )
            for g in groups:
                members = tuple(i.id for i in framework.indicators if i.group == g)
                if g in self.within:
                    check_indicators(self.within[g].criteria, f"within.{g}", members)
                elif len(members) > 1 and g in self.criteria:
                    problems.append(
                        Problem(
                            f"within.{g}",
                            MSG_WITHIN_MISSING.format(
                                group=g, n=len(members), ids=", ".join(members)
                            ),
                        )
                    )
        if problems:
            raise AHPError(self.source, problems)
        return self

    def indicator_weights(self, framework: Framework) -> pd.Series:
        """Global weight of every core indicator of ``framework`` (validated), in framework order.

        In a hierarchy an indicator's weight is its group's weight times its weight within the
        group; a group with one indicator passes its weight on whole.
        """
        import pandas as pd

        self.validate(framework)
        if not self.is_hierarchy:
            local = self.weights
            return pd.Series(
                [float(local[i]) for i in framework.core_indicator_ids],
                index=list(framework.core_indicator_ids),
                name="weight",
            )
        top = self.weights
        out = {}
        for ident in framework.core_indicator_ids:
            g = framework.indicator(ident).group
            inner = float(self.within[g].weights[ident]) if g in self.within else 1.0
            out[ident] = float(top[g]) * inner
        return pd.Series(out, name="weight")

    def fingerprint(self) -> str:
        """SHA-256 (16 hex digits) of the criteria and matrices: same judgements, same fingerprint."""
        doc = {
            "criteria": list(self.criteria),
            "matrix": self.matrix.round(12).tolist(),
            "within": {
                g: {"criteria": list(m.criteria), "matrix": m.matrix.round(12).tolist()}
                for g, m in sorted(self.within.items())
            },
        }
        return hashlib.sha256(json.dumps(doc, sort_keys=True).encode("utf-8")).hexdigest()[:16]

    def summary(self) -> dict[str, Any]:
        """A plain, YAML-ready record of the file, weights and consistency (for a ``calibration`` block)."""
        levels = []
        for m in self.levels():
            levels.append(
                {
                    "matrix": m.where or "matrix",
                    "criteria": list(m.criteria),
                    "weights": [float(x) for x in m._eigen[0]],
                    "lambda_max": float(m.lambda_max),
                    "ci": float(m.ci),
                    "ri": float(m.ri),
                    "cr": float(m.cr),
                }
            )
        return {
            "file": self.source,
            "fingerprint": self.fingerprint(),
            "hierarchy_cr": float(self.hierarchy_cr),
            "levels": levels,
        }


def _read_level(  # noqa: C901 - validates every field of an AHP level, one branch per field
    raw: Any, where: str, source: str, allowed: set[str], problems: list[Problem]
) -> AHPMatrix | None:
    """Read one ``criteria`` + ``matrix`` pair, appending every problem; ``None`` if unusable."""
    if not isinstance(raw, Mapping):
        problems.append(
            Problem(
                where or "<top>",
                f"expected a mapping with criteria and matrix, found {type(raw).__name__}",
            )
        )
        return None
    for key in raw:
        if key not in allowed:
            problems.append(
                Problem(
                    _join(where, str(key)),
                    MSG_UNKNOWN_KEY.format(key=key, allowed=", ".join(sorted(allowed))),
                )
            )
    for key in ("criteria", "matrix"):
        if key not in raw:
            problems.append(Problem(_join(where, key), MSG_MISSING_KEY.format(key=key)))
    criteria_raw = raw.get("criteria")
    cwhere = _join(where, "criteria")
    if (
        not isinstance(criteria_raw, list)
        or not criteria_raw
        or not all(isinstance(c, str) and c for c in criteria_raw)
    ):
        if "criteria" in raw:
            problems.append(Problem(cwhere, MSG_NO_CRITERIA.format(found=criteria_raw)))
        return None
    criteria = tuple(criteria_raw)
    seen: set[str] = set()
    for pos, c in enumerate(criteria):
        if c in seen:
            problems.append(Problem(f"{cwhere}[{pos}]", MSG_DUPLICATE.format(ident=c)))
        seen.add(c)
    n = len(criteria)
    if n > max(RANDOM_INDEX):
        problems.append(Problem(cwhere, MSG_TOO_MANY.format(n=n)))
        return None
    rows_raw = raw.get("matrix")
    mwhere = _join(where, "matrix")
    if rows_raw is None:
        return None
    if not isinstance(rows_raw, list) or not all(isinstance(r, list) for r in rows_raw):
        problems.append(Problem(mwhere, "expected a list of rows, each a list of numbers"))
        return None
    lengths = [len(r) for r in rows_raw]
    upper = [n - i for i in range(n)]
    full = lengths == [n] * n
    if lengths != upper and not full:
        problems.append(Problem(mwhere, MSG_SHAPE.format(n=n, upper=upper, found=lengths)))
        return None
    a = np.ones((n, n))
    ok = True
    for i, row in enumerate(rows_raw):
        for pos, value in enumerate(row):
            j = pos if full else i + pos
            number = _saaty(value)
            place = f"{mwhere}[{i}][{pos}]"
            if number is None:
                problems.append(Problem(place, MSG_SAATY.format(found=value)))
                ok = False
                continue
            if i == j and number != 1.0:
                problems.append(Problem(place, MSG_DIAGONAL.format(ident=criteria[i], found=value)))
                ok = False
            a[i, j] = number
    if not ok:
        return None
    if full:
        for i in range(n):
            for j in range(i + 1, n):
                if abs(a[i, j] * a[j, i] - 1.0) > 1e-9:
                    problems.append(
                        Problem(
                            f"{mwhere}[{j}][{i}]",
                            MSG_RECIPROCAL.format(
                                i=i + 1, j=j + 1, a=rows_raw[i][j], b=rows_raw[j][i]
                            ),
                        )
                    )
                    ok = False
        if not ok:
            return None
    iu = np.triu_indices(n, k=1)
    a[iu[1], iu[0]] = 1.0 / a[iu]
    return AHPMatrix(criteria, a, {}, source, where)
