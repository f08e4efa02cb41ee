"""GAMP 5 risk assessment of a user requirement: risk class, then priority."""

from __future__ import annotations

from enum import StrEnum


class Level(StrEnum):
    """How high an impact, a likelihood or a detectability is judged."""

    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


LEVELS = tuple(level.value for level in Level)

# GAMP 5 (2nd ed.), appendix M3: severity of the impact (on patient safety, product
# quality and data integrity) against the likelihood of the fault gives a risk class,
# 1 the highest; the class against how likely the fault is to be detected gives the
# priority. A priority-high requirement is tested both ways (positive and negative).
_CLASS = {
    (Level.HIGH, Level.HIGH): 1,
    (Level.HIGH, Level.MEDIUM): 1,
    (Level.HIGH, Level.LOW): 2,
    (Level.MEDIUM, Level.HIGH): 1,
    (Level.MEDIUM, Level.MEDIUM): 2,
    (Level.MEDIUM, Level.LOW): 3,
    (Level.LOW, Level.HIGH): 2,
    (Level.LOW, Level.MEDIUM): 3,
    (Level.LOW, Level.LOW): 3,
}

_PRIORITY = {
    (1, Level.LOW): Level.HIGH,
    (1, Level.MEDIUM): Level.HIGH,
    (1, Level.HIGH): Level.MEDIUM,
    (2, Level.LOW): Level.HIGH,
    (2, Level.MEDIUM): Level.MEDIUM,
    (2, Level.HIGH): Level.LOW,
    (3, Level.LOW): Level.MEDIUM,
    (3, Level.MEDIUM): Level.LOW,
    (3, Level.HIGH): Level.LOW,
}


def risk_class(impact: Level, likelihood: Level) -> int:
    """1, 2 or 3: the GAMP risk class of a fault of this impact and likelihood."""
    return _CLASS[(impact, likelihood)]


def risk_priority(impact: Level, likelihood: Level, detectability: Level) -> Level:
    """The GAMP risk priority: the risk class against the fault's detectability."""
    return _PRIORITY[(risk_class(impact, likelihood), detectability)]
