"""Stage 1, raw: source files and StatBank extracts read as text with lineage, validated row by
row (bad rows to quarantine with a reason), and loaded into the warehouse's ``raw`` schema.

Read first: :func:`datapakke.raw.stage.ingest_sources`.
"""
