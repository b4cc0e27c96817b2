"""The embedded synthetic sample: real municipality codes and names, invented numbers, real formats.

Why it exists: the whole pipeline (readers, validation, disclosure control, packs) must run end to
end without access to restricted data, and it must meet the same quirks real extracts have (BOMs,
CRLF, cp1252, decimal commas, thousands separators, wide Excel sheets with title rows, ``<5`` and
``..`` markers, aggregate rows, name variants). Every number is drawn from a simple model whose
assumptions are the constants in :mod:`datapakke.raw.sample.model`; none of it is real and it must
never be used for decisions (MANIFEST.json, README.md and the Excel title rows say so).

Deterministic: one seed, one independent child stream of it per file (and per shared model
part), no clock anywhere, so a rerun is byte-identical and the test suite can check that the
committed sample never drifts from this generator. The Excel files are written directly as a
minimal SpreadsheetML package (:mod:`datapakke.raw.sample.xlsx`). The bytes of deflated zip
entries depend on zlib: a different zlib build could compress differently (then the determinism
test says so and ``make sample`` regenerates).

The parts: :mod:`~datapakke.raw.sample.model` (assumptions), :mod:`~datapakke.raw.sample.world`
(the shared population and municipal effects), one writer module per publisher folder
(:mod:`~datapakke.raw.sample.statbank`, :mod:`~datapakke.raw.sample.esundhed`,
:mod:`~datapakke.raw.sample.sundhedsprofil`) and :mod:`~datapakke.raw.sample.manifest`, which
writes them all with README.md and MANIFEST.json.

Run: ``python -m datapakke.raw.sample [--out DIR]`` (default: ``data/raw/sample``).
"""

# The sample's identity, written into MANIFEST.json, README.md and every Excel file.
SEED = 20260101
GENERATOR = "datapakke.raw.sample"
NOTICE_DA = (
    "SYNTETISKE DATA – kommunekoder og -navne er rigtige, men alle tal er opdigtede. "
    "Må ikke bruges til beslutninger."
)
NOTICE_EN = (
    "SYNTHETIC DATA – municipality codes and names are real, but every number is invented. "
    "Must not be used for decisions."
)
