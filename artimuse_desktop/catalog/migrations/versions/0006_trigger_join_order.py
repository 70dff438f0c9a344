"""SQLite's sort-value triggers look a photo's values up from its assessments, not from every row of a name.

Revision ID: 0006
Revises: 0005
Create Date: 2027-03-01

The triggers of 0005 find a photo's shown measure or attribute with ``FROM measures vm JOIN assessments va``.
A catalog SQLite has no statistics for (every new one: the app never ran ``ANALYZE`` on those tables) made
the planner start from ``measures (name)`` or ``attribute_scores (attribute)``: every row of that name, for
each row inserted. Saving one technical score into a 10,000-photo catalog then read about 100,000 rows, and
filling a catalog grew with the square of its size (a 300,000-photo benchmark catalog ran for hours). The
rewritten triggers start from the photo's assessments (``CROSS JOIN``: SQLite keeps that order) and read a
few index entries whatever the catalog's size or statistics.

SQLite only: PostgreSQL plans with the statistics autovacuum keeps, and its trigger functions stay.
"""

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

#: (0005's text, this revision's): the same rows, the photo's assessments read first.
REWRITES = (
    (
        "FROM measures vm JOIN assessments va ON va.id = vm.assessment_id WHERE ",
        "FROM assessments va CROSS JOIN measures vm WHERE vm.assessment_id = va.id AND ",
    ),
    (
        "FROM attribute_scores vs JOIN assessments va ON va.id = vs.assessment_id WHERE ",
        "FROM assessments va CROSS JOIN attribute_scores vs WHERE vs.assessment_id = va.id AND ",
    ),
)


def _rewrite(forward: bool) -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    triggers = op.get_bind().exec_driver_sql("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'").all()
    for name, sql in triggers:
        text = sql
        for old, new in REWRITES:
            text = text.replace(old, new) if forward else text.replace(new, old)
        if text != sql:
            op.execute(f'DROP TRIGGER "{name}"')
            op.execute(text)


def upgrade() -> None:
    _rewrite(forward=True)


def downgrade() -> None:
    _rewrite(forward=False)
