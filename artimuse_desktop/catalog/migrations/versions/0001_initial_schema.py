"""Initial schema: roots, photos with decisions, decision log, assessments, attributes, measures, FTS5.

Frozen: never edit a released migration; add a new one. Paths are BLOBs (raw file-system bytes).

Revision ID: 0001
Revises: 
Create Date: 2026-11-26
"""

from alembic import op
import sqlalchemy as sa


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    
    op.create_table('catalog_settings',
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('value', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('key')
    )
    op.create_table('library_roots',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('path', sa.LargeBinary(), nullable=False),
    sa.Column('added_at', sa.DateTime(), nullable=False),
    sa.Column('last_scan_at', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('path')
    )
    op.create_table('photos',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('root_id', sa.Integer(), nullable=True),
    sa.Column('path', sa.LargeBinary(), nullable=False),
    sa.Column('folder', sa.LargeBinary(), nullable=False),
    sa.Column('filename', sa.Text(), nullable=False),
    sa.Column('size', sa.Integer().with_variant(sa.BigInteger(), 'postgresql'), nullable=False),
    sa.Column('mtime', sa.Float(), nullable=False),
    sa.Column('fingerprint', sa.String(length=64), nullable=True),
    sa.Column('format', sa.String(length=16), nullable=True),
    sa.Column('width', sa.Integer(), nullable=True),
    sa.Column('height', sa.Integer(), nullable=True),
    sa.Column('orientation', sa.Integer(), nullable=True),
    sa.Column('captured_at', sa.DateTime(), nullable=True),
    sa.Column('camera_make', sa.String(length=128), nullable=True),
    sa.Column('camera_model', sa.String(length=128), nullable=True),
    sa.Column('lens', sa.String(length=256), nullable=True),
    sa.Column('focal_length', sa.Float(), nullable=True),
    sa.Column('aperture', sa.Float(), nullable=True),
    sa.Column('shutter', sa.Float(), nullable=True),
    sa.Column('iso', sa.Integer(), nullable=True),
    sa.Column('gps_lat', sa.Float(), nullable=True),
    sa.Column('gps_lon', sa.Float(), nullable=True),
    sa.Column('gps_alt', sa.Float(), nullable=True),
    sa.Column('phash', sa.String(length=32), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('indexed_at', sa.DateTime(), nullable=True),
    sa.Column('flag', sa.Integer(), nullable=False),
    sa.Column('rating', sa.Integer(), nullable=False),
    sa.Column('color_label', sa.String(length=16), nullable=True),
    sa.Column('decided_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['root_id'], ['library_roots.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('path')
    )
    with op.batch_alter_table('photos', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_photos_camera_model'), ['camera_model'], unique=False)
        batch_op.create_index(batch_op.f('ix_photos_captured_at'), ['captured_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_photos_color_label'), ['color_label'], unique=False)
        batch_op.create_index(batch_op.f('ix_photos_filename'), ['filename'], unique=False)
        batch_op.create_index(batch_op.f('ix_photos_fingerprint'), ['fingerprint'], unique=False)
        batch_op.create_index(batch_op.f('ix_photos_flag'), ['flag'], unique=False)
        batch_op.create_index(batch_op.f('ix_photos_folder'), ['folder'], unique=False)
        batch_op.create_index(batch_op.f('ix_photos_rating'), ['rating'], unique=False)
        batch_op.create_index(batch_op.f('ix_photos_status'), ['status'], unique=False)

    op.create_table('assessments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('photo_id', sa.Integer(), nullable=False),
    sa.Column('model', sa.String(length=128), nullable=False),
    sa.Column('model_version', sa.String(length=128), nullable=False),
    sa.Column('fingerprint', sa.String(length=64), nullable=True),
    sa.Column('score', sa.Float(), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('current', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['photo_id'], ['photos.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('photo_id', 'model', 'model_version', name='uq_assessment_photo_model_version')
    )
    with op.batch_alter_table('assessments', schema=None) as batch_op:
        batch_op.create_index('ix_assessments_model_current_score', ['model', 'current', 'score'], unique=False)
        batch_op.create_index('ix_assessments_photo_model_current', ['photo_id', 'model', 'current'], unique=False)
        batch_op.create_index(batch_op.f('ix_assessments_photo_id'), ['photo_id'], unique=False)

    op.create_table('decision_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('photo_id', sa.Integer(), nullable=False),
    sa.Column('field', sa.String(length=16), nullable=False),
    sa.Column('old_value', sa.String(length=16), nullable=True),
    sa.Column('new_value', sa.String(length=16), nullable=True),
    sa.Column('batch', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['photo_id'], ['photos.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('decision_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_decision_events_batch'), ['batch'], unique=False)
        batch_op.create_index(batch_op.f('ix_decision_events_photo_id'), ['photo_id'], unique=False)

    op.create_table('attribute_scores',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('assessment_id', sa.Integer(), nullable=False),
    sa.Column('attribute', sa.String(length=64), nullable=False),
    sa.Column('score', sa.Float(), nullable=True),
    sa.Column('critique', sa.Text(), nullable=True),
    sa.Column('experimental', sa.Boolean(), nullable=False),
    sa.Column('critique_model', sa.String(length=128), nullable=True),
    sa.Column('critique_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['assessment_id'], ['assessments.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('assessment_id', 'attribute', name='uq_attribute_per_assessment')
    )
    with op.batch_alter_table('attribute_scores', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_attribute_scores_attribute'), ['attribute'], unique=False)

    op.create_table('measures',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('assessment_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('value', sa.Float(), nullable=False),
    sa.Column('unit', sa.String(length=32), nullable=False),
    sa.Column('higher_is_better', sa.Boolean(), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['assessment_id'], ['assessments.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('assessment_id', 'name', name='uq_measure_per_assessment')
    )
    with op.batch_alter_table('measures', schema=None) as batch_op:
        batch_op.create_index('ix_measures_name_value', ['name', 'value'], unique=False)

    if op.get_bind().dialect.name == "postgresql":
        _postgres_search_and_notify()
        return
    # Full-text search over critiques (external-content FTS5 kept in step by triggers).
    op.execute(
        "CREATE VIRTUAL TABLE critique_fts USING fts5("
        "critique, content='attribute_scores', content_rowid='id', tokenize='unicode61 remove_diacritics 2')"
    )
    op.execute(
        "CREATE TRIGGER attribute_scores_ai AFTER INSERT ON attribute_scores BEGIN "
        "INSERT INTO critique_fts(rowid, critique) VALUES (new.id, new.critique); END"
    )
    op.execute(
        "CREATE TRIGGER attribute_scores_ad AFTER DELETE ON attribute_scores BEGIN "
        "INSERT INTO critique_fts(critique_fts, rowid, critique) VALUES ('delete', old.id, old.critique); END"
    )
    op.execute(
        "CREATE TRIGGER attribute_scores_au AFTER UPDATE ON attribute_scores BEGIN "
        "INSERT INTO critique_fts(critique_fts, rowid, critique) VALUES ('delete', old.id, old.critique); "
        "INSERT INTO critique_fts(rowid, critique) VALUES (new.id, new.critique); END"
    )


#: PostgreSQL: the text search configuration critiques are searched with (``catalog.filters`` names it too).
TS_CONFIG = "artimuse_critique"
#: PostgreSQL: the channel ``catalog.watch`` listens on; the payload is the writing server process's id.
NOTIFY_CHANNEL = "artimuse_catalog"
_NOTIFIED_TABLES = (
    "catalog_settings", "library_roots", "photos", "assessments", "decision_events", "attribute_scores", "measures",
)


def _postgres_search_and_notify() -> None:
    """PostgreSQL's FTS5: a GIN index on the critique's tsvector under a 'simple' configuration that drops
    diacritics (unaccent, where the server has it: FTS5's remove_diacritics), and a NOTIFY after every writing
    statement so other sessions see changes (SQLite's data_version)."""
    bind = op.get_bind()
    unaccent = False
    available = bind.exec_driver_sql("SELECT 1 FROM pg_available_extensions WHERE name = 'unaccent'").first()
    if available is not None:
        savepoint = bind.begin_nested()
        try:
            bind.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS unaccent")
            savepoint.commit()
            unaccent = True
        except sa.exc.DBAPIError:  # not allowed to here: search keeps its accents
            savepoint.rollback()
    op.execute(f"CREATE TEXT SEARCH CONFIGURATION {TS_CONFIG} (COPY = pg_catalog.simple)")
    if unaccent:
        op.execute(
            f"ALTER TEXT SEARCH CONFIGURATION {TS_CONFIG} ALTER MAPPING FOR word, hword, hword_part, "
            "asciiword, asciihword, hword_asciipart WITH unaccent, simple"
        )
    op.execute(
        f"CREATE INDEX ix_critique_fts ON attribute_scores USING gin (to_tsvector('{TS_CONFIG}'::regconfig, critique))"
    )
    op.execute(
        "CREATE FUNCTION artimuse_catalog_changed() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        f"PERFORM pg_notify('{NOTIFY_CHANNEL}', pg_backend_pid()::text); RETURN NULL; END $$"
    )
    for table in _NOTIFIED_TABLES:
        op.execute(
            f"CREATE TRIGGER {table}_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION artimuse_catalog_changed()"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in _NOTIFIED_TABLES:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_changed ON {table}")
        op.execute("DROP FUNCTION IF EXISTS artimuse_catalog_changed()")
        op.execute("DROP INDEX IF EXISTS ix_critique_fts")
        op.execute(f"DROP TEXT SEARCH CONFIGURATION IF EXISTS {TS_CONFIG}")
    else:
        op.execute("DROP TABLE IF EXISTS critique_fts")
    
    with op.batch_alter_table('measures', schema=None) as batch_op:
        batch_op.drop_index('ix_measures_name_value')

    op.drop_table('measures')
    with op.batch_alter_table('attribute_scores', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_attribute_scores_attribute'))

    op.drop_table('attribute_scores')
    with op.batch_alter_table('decision_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_decision_events_photo_id'))
        batch_op.drop_index(batch_op.f('ix_decision_events_batch'))

    op.drop_table('decision_events')
    with op.batch_alter_table('assessments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_assessments_photo_id'))
        batch_op.drop_index('ix_assessments_photo_model_current')
        batch_op.drop_index('ix_assessments_model_current_score')

    op.drop_table('assessments')
    with op.batch_alter_table('photos', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_photos_status'))
        batch_op.drop_index(batch_op.f('ix_photos_rating'))
        batch_op.drop_index(batch_op.f('ix_photos_folder'))
        batch_op.drop_index(batch_op.f('ix_photos_flag'))
        batch_op.drop_index(batch_op.f('ix_photos_fingerprint'))
        batch_op.drop_index(batch_op.f('ix_photos_filename'))
        batch_op.drop_index(batch_op.f('ix_photos_color_label'))
        batch_op.drop_index(batch_op.f('ix_photos_captured_at'))
        batch_op.drop_index(batch_op.f('ix_photos_camera_model'))

    op.drop_table('photos')
    op.drop_table('library_roots')
    op.drop_table('catalog_settings')
    
