"""Policy frameworks: a typed model of a points scheme, validated YAML I/O, edits.

>>> from calibrate.framework import load_framework
>>> f = load_framework("longwan-2022")
>>> f.table().loc["rd_intensity", "growth"]  # doctest: +SKIP
"""

from calibrate.framework._parse import SCHEMA
from calibrate.framework._yaml import load_yaml, parse_typed, read_yaml_file, typed_problems
from calibrate.framework.core import Framework, load_framework, shipped_frameworks
from calibrate.framework.model import (
    Band,
    BandsRule,
    Benefit,
    BinaryRule,
    Condition,
    CountRule,
    Credit,
    CreditBand,
    Eligibility,
    Group,
    Indicator,
    LinearRule,
    Name,
    Penalty,
    PercentileRule,
    PolicyList,
    Pool,
    Provenance,
    SeatOptions,
    Stage,
    Subsidy,
    TieBreaker,
    Tier,
)

__all__ = [
    "SCHEMA",
    "Band",
    "BandsRule",
    "Benefit",
    "BinaryRule",
    "Condition",
    "CountRule",
    "Credit",
    "CreditBand",
    "Eligibility",
    "Framework",
    "Group",
    "Indicator",
    "LinearRule",
    "Name",
    "Penalty",
    "PercentileRule",
    "PolicyList",
    "Pool",
    "Provenance",
    "SeatOptions",
    "Stage",
    "Subsidy",
    "TieBreaker",
    "Tier",
    "load_framework",
    "load_yaml",
    "parse_typed",
    "read_yaml_file",
    "shipped_frameworks",
    "typed_problems",
]
