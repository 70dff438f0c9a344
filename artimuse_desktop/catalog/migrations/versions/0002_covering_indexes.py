"""Fast grid queries on large catalogs: covering indexes and a trigger-kept copy of the score on photos.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26

``photos.score`` holds the current score of the catalog's chosen score model (``catalog_settings.score_model``,
``technical`` by default). SQLite triggers keep it right whoever writes assessments or changes the setting,
so sorting 100,000 photos by score reads one covering index instead of joining assessments. Photos filtered by
status, rating or flag are read in shooting order from (…, status, captured_at); attribute and measure
sorts read their values from covering indexes instead of the rows; the score join of other
models is covered by assessments (photo_id, model, current, score). The single-column status/flag/rating
indexes are prefixes of the new ones and go.
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_SCORE_MODEL = "COALESCE((SELECT value FROM catalog_settings WHERE key = 'score_model'), 'technical')"
_CURRENT_SCORE = (
    "(SELECT a.score FROM assessments a WHERE a.photo_id = photos.id AND a.model = "
    + _SCORE_MODEL
    + " AND a.current ORDER BY a.created_at DESC LIMIT 1)"
)
TRIGGERS = {
    "assessments_score_ai": "AFTER INSERT ON assessments BEGIN "
    f"UPDATE photos SET score = {_CURRENT_SCORE} WHERE id = new.photo_id; END",
    "assessments_score_au": "AFTER UPDATE OF score, current, model, photo_id ON assessments BEGIN "
    f"UPDATE photos SET score = {_CURRENT_SCORE} WHERE id IN (new.photo_id, old.photo_id); END",
    "assessments_score_ad": "AFTER DELETE ON assessments BEGIN "
    f"UPDATE photos SET score = {_CURRENT_SCORE} WHERE id = old.photo_id; END",
    "score_model_ai": "AFTER INSERT ON catalog_settings WHEN new.key = 'score_model' BEGIN "
    f"UPDATE photos SET score = {_CURRENT_SCORE}; END",
    "score_model_au": "AFTER UPDATE ON catalog_settings WHEN new.key = 'score_model' OR old.key = 'score_model' "
    f"BEGIN UPDATE photos SET score = {_CURRENT_SCORE}; END",
    "score_model_ad": "AFTER DELETE ON catalog_settings WHEN old.key = 'score_model' BEGIN "
    f"UPDATE photos SET score = {_CURRENT_SCORE}; END",
}


def upgrade() -> None:
    with op.batch_alter_table("photos", schema=None) as batch_op:
        batch_op.add_column(sa.Column("score", sa.Float(), nullable=True))
        batch_op.drop_index("ix_photos_status")
        batch_op.drop_index("ix_photos_rating")
        batch_op.drop_index("ix_photos_flag")
        batch_op.create_index("ix_photos_status_captured", ["status", "captured_at"], unique=False)
        batch_op.create_index("ix_photos_rating_status_captured", ["rating", "status", "captured_at"], unique=False)
        batch_op.create_index("ix_photos_flag_status_captured", ["flag", "status", "captured_at"], unique=False)
        batch_op.create_index("ix_photos_status_score", ["status", "score"], unique=False)
        batch_op.create_index("ix_photos_rating_status_score", ["rating", "status", "score"], unique=False)
        batch_op.create_index("ix_photos_flag_status_score", ["flag", "status", "score"], unique=False)
    with op.batch_alter_table("assessments", schema=None) as batch_op:
        batch_op.drop_index("ix_assessments_photo_model_current")
        batch_op.create_index(
            "ix_assessments_photo_model_current_score", ["photo_id", "model", "current", "score"], unique=False
        )
    with op.batch_alter_table("attribute_scores", schema=None) as batch_op:
        batch_op.create_index("ix_attribute_scores_cover", ["assessment_id", "attribute", "score"], unique=False)
    with op.batch_alter_table("measures", schema=None) as batch_op:
        batch_op.create_index("ix_measures_cover", ["assessment_id", "name", "value"], unique=False)
    if op.get_bind().dialect.name == "postgresql":
        _postgres_triggers()
    else:
        for name, body in TRIGGERS.items():
            op.execute(f"CREATE TRIGGER {name} {body}")
    op.execute(f"UPDATE photos SET score = {_CURRENT_SCORE}")
    op.execute("ANALYZE")


#: PostgreSQL: the same six triggers, as row triggers calling two plpgsql functions.
PG_FUNCTIONS = {
    "artimuse_assessment_score": "IF TG_OP = 'DELETE' THEN "
    f"UPDATE photos SET score = {_CURRENT_SCORE} WHERE id = OLD.photo_id; "
    f"ELSIF TG_OP = 'INSERT' THEN UPDATE photos SET score = {_CURRENT_SCORE} WHERE id = NEW.photo_id; "
    f"ELSE UPDATE photos SET score = {_CURRENT_SCORE} WHERE id IN (NEW.photo_id, OLD.photo_id); END IF;",
    "artimuse_score_model_score": f"UPDATE photos SET score = {_CURRENT_SCORE};",
}
PG_TRIGGERS = {
    "assessments_score_ai": "AFTER INSERT ON assessments FOR EACH ROW EXECUTE FUNCTION artimuse_assessment_score()",
    "assessments_score_au": "AFTER UPDATE OF score, current, model, photo_id ON assessments FOR EACH ROW "
    "EXECUTE FUNCTION artimuse_assessment_score()",
    "assessments_score_ad": "AFTER DELETE ON assessments FOR EACH ROW EXECUTE FUNCTION artimuse_assessment_score()",
    "score_model_ai": "AFTER INSERT ON catalog_settings FOR EACH ROW WHEN (NEW.key = 'score_model') "
    "EXECUTE FUNCTION artimuse_score_model_score()",
    "score_model_au": "AFTER UPDATE ON catalog_settings FOR EACH ROW "
    "WHEN (NEW.key = 'score_model' OR OLD.key = 'score_model') EXECUTE FUNCTION artimuse_score_model_score()",
    "score_model_ad": "AFTER DELETE ON catalog_settings FOR EACH ROW WHEN (OLD.key = 'score_model') "
    "EXECUTE FUNCTION artimuse_score_model_score()",
}


def _postgres_triggers() -> None:
    for name, body in PG_FUNCTIONS.items():
        op.execute(f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN {body} RETURN NULL; END $$")
    for name, body in PG_TRIGGERS.items():
        op.execute(f"CREATE TRIGGER {name} {body}")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for name, body in PG_TRIGGERS.items():
            op.execute(f"DROP TRIGGER IF EXISTS {name} ON {body.split(' ON ')[1].split()[0]}")
        for name in PG_FUNCTIONS:
            op.execute(f"DROP FUNCTION IF EXISTS {name}()")
    for name in TRIGGERS if op.get_bind().dialect.name != "postgresql" else ():
        op.execute(f"DROP TRIGGER IF EXISTS {name}")
    with op.batch_alter_table("measures", schema=None) as batch_op:
        batch_op.drop_index("ix_measures_cover")
    with op.batch_alter_table("attribute_scores", schema=None) as batch_op:
        batch_op.drop_index("ix_attribute_scores_cover")
    with op.batch_alter_table("assessments", schema=None) as batch_op:
        batch_op.drop_index("ix_assessments_photo_model_current_score")
        batch_op.create_index("ix_assessments_photo_model_current", ["photo_id", "model", "current"], unique=False)
    with op.batch_alter_table("photos", schema=None) as batch_op:
        for index in (
            "ix_photos_flag_status_score",
            "ix_photos_rating_status_score",
            "ix_photos_status_score",
            "ix_photos_flag_status_captured",
            "ix_photos_rating_status_captured",
            "ix_photos_status_captured",
        ):
            batch_op.drop_index(index)
        batch_op.create_index("ix_photos_flag", ["flag"], unique=False)
        batch_op.create_index("ix_photos_rating", ["rating"], unique=False)
        batch_op.create_index("ix_photos_status", ["status"], unique=False)
        batch_op.drop_column("score")
