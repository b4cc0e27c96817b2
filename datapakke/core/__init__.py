"""Stage 2, core: the validated facts (``core.population``, ``core.observation``) built from the
accepted raw loads, and the reference-integrity check.

Read first: :func:`datapakke.core.stage.build_core_tables`.
"""
