"""Which assessment a shown value comes from: one rule for the side panel, reports, sidecars, sorts and filters.

A photo can hold a current assessment from several models. What the app shows for it:

* **An attribute** (score, critique): from the catalog's score model first, then from the other current
  assessments in order of model name. The score and the critique are taken separately (the first present of
  each), so a critique written by another model still shows beside the score model's number. "Experimental"
  belongs to the score that is shown.
* **A technical measure**: from the ``technical`` model's current assessment only.

The Python functions below work on ``AssessmentRecord`` lists; the SQL expression builders beside them give
sorts and filters the same values. Model names compare as plain strings: Python's ``str`` order and SQLite's
binary collation agree, and PostgreSQL is asked for its binary ``"C"`` collation (``CodePointOrder``) whatever
the database's own.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import aliased
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.expression import ColumnElement
from sqlalchemy.sql.visitors import InternalTraversal

from artimuse_desktop.catalog.models import Assessment, AttributeScore, MeasureValue, Photo
from artimuse_desktop.catalog.records import AssessmentRecord, MeasureRecord

MEASURE_MODEL = "technical"


@dataclass(frozen=True)
class AttributeValue:
    """An attribute as shown: ``model`` gave the score (the critique's model when there is no score)."""

    attribute: str
    score: float | None
    critique: str | None
    experimental: bool
    model: str | None
    critique_model: str | None = None  # who wrote the shown critique (may differ from ``model``)


def in_preference_order(assessments: Sequence[AssessmentRecord], score_model: str) -> list[AssessmentRecord]:
    """The score model's assessment first, then the others by model name (never the order rows came in)."""
    return sorted(assessments, key=lambda a: (a.model != score_model, a.model))


def attribute_values(assessments: Sequence[AssessmentRecord], score_model: str) -> dict[str, AttributeValue]:
    """Every attribute some current assessment mentions, with its shown score and critique (absent: None)."""
    ordered = in_preference_order(assessments, score_model)
    names = list(dict.fromkeys(record.attribute for a in ordered for record in a.attributes))
    values: dict[str, AttributeValue] = {}
    for name in names:
        records = [record for a in ordered for record in a.attributes if record.attribute == name]
        scored = next((r for r in records if r.score is not None), None)
        critiqued = next((r for r in records if r.critique), None)
        source = scored or critiqued or records[0]
        values[name] = AttributeValue(
            attribute=name,
            score=scored.score if scored is not None else None,
            critique=critiqued.critique if critiqued is not None else None,
            experimental=bool(scored is not None and scored.experimental),
            model=source.model,
            critique_model=critiqued.model if critiqued is not None else None,
        )
    return values


def attribute_score(assessments: Sequence[AssessmentRecord], score_model: str, attribute: str) -> float | None:
    """The shown score of one attribute (what ``attribute_score_expr`` sorts and filters by)."""
    value = attribute_values(assessments, score_model).get(attribute)
    return value.score if value is not None else None


def technical_measures(assessments: Sequence[AssessmentRecord]) -> tuple[MeasureRecord, ...]:
    """The measures of the ``technical`` model's current assessment (none without one)."""
    return next((a.measures for a in assessments if a.model == MEASURE_MODEL), ())


# --------------------------------------------------------------------------- the same rules in SQL


class CodePointOrder(ColumnElement[str]):
    """``column`` compared by code point, as Python compares ``str``: SQLite's default, ``COLLATE "C"`` on
    PostgreSQL (whose database collation may follow a locale)."""

    inherit_cache = True

    def __init__(self, column: Any) -> None:
        self.column = column
        self.type = column.type

    _traverse_internals = [("column", InternalTraversal.dp_clauseelement)]  # noqa: RUF012  (the cache key)


@compiles(CodePointOrder)
def _plain_order(element: CodePointOrder, compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(element.column, **kw)


@compiles(CodePointOrder, "postgresql")
def _c_order(element: CodePointOrder, compiler: SQLCompiler, **kw: Any) -> str:
    return f'{compiler.process(element.column, **kw)} COLLATE "C"'


def attribute_score_expr(attribute: str, score_model: str) -> Any:
    """The shown attribute score of ``photos.id``, as a correlated scalar for ORDER BY and WHERE.

    Two correlated lookups under COALESCE (the second runs only when the first finds nothing); both read
    covering indexes, about 40 % faster on 100,000 photos than one lookup ordered by "score model first".
    The fallback walks ``ix_assessments_photo_model_current_score`` in model order, so the name tie-break
    costs no sort.
    """

    def lookup(own_model: bool) -> Any:
        assessment = aliased(Assessment)
        score = aliased(AttributeScore)
        conditions = [
            assessment.photo_id == Photo.id,
            assessment.current.is_(True),
            score.attribute == attribute,
            score.score.is_not(None),
        ]
        if own_model:
            conditions.append(assessment.model == score_model)
        stmt = select(score.score).join(assessment, score.assessment_id == assessment.id).where(*conditions)
        if not own_model:
            stmt = stmt.order_by(CodePointOrder(assessment.model))
        return stmt.limit(1).correlate(Photo).scalar_subquery()

    return func.coalesce(lookup(True), lookup(False))


def measure_expr(name: str) -> Any:
    """The technical measure ``name`` of ``photos.id``, as a correlated scalar."""
    assessment = aliased(Assessment)
    return (
        select(MeasureValue.value)
        .join(assessment, MeasureValue.assessment_id == assessment.id)
        .where(
            assessment.photo_id == Photo.id,
            assessment.model == MEASURE_MODEL,
            assessment.current.is_(True),
            MeasureValue.name == name,
        )
        .limit(1)
        .correlate(Photo)
        .scalar_subquery()
    )
