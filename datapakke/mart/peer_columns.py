"""The columns of the similar-municipality tables, apart from the computation (which needs the
statistics and scipy), so the pack and the charts can name them without importing either."""

from __future__ import annotations

import pandas as pd

# mart.peer_group: one row per municipality × peer, with both municipalities' basis values.
PEER_GROUP_DTYPES = {
    "municipality_code": "object",
    "peer_code": "object",
    "rank": "int64",
    "distance": "float64",
    "basis_year": "object",
    "population": "float64",
    "share_65plus_pct": "float64",
    "share_80plus_pct": "float64",
    "peer_population": "float64",
    "peer_share_65plus_pct": "float64",
    "peer_share_80plus_pct": "float64",
}
# mart.peer_comparison: one row per indicator × municipality (latest period, sex T).
PEER_COMPARISON_DTYPES = {
    "indicator_id": "object",
    "municipality_code": "object",
    "period": "object",
    "value": "float64",
    "ci95_low": "float64",
    "ci95_high": "float64",
    "is_suppressed": "bool",
    "peer_values": "int64",  # peers with a published value
    "peer_median": "float64",
    "compared_to_peers": "object",
    "opportunity_events_per_year": "float64",
    "opportunity_ci95_low": "float64",
    "opportunity_ci95_high": "float64",
}
PEER_GROUP_COLUMNS = list(PEER_GROUP_DTYPES)
PEER_COMPARISON_COLUMNS = list(PEER_COMPARISON_DTYPES)


def with_names(dtypes: dict[str, str], names: dict[str, str]) -> dict[str, str]:
    """``dtypes`` with a text column after each code column named in ``names`` (code → name
    column): what a reader sees beside a municipality code."""
    named: dict[str, str] = {}
    for column, dtype in dtypes.items():
        named[column] = dtype
        if column in names:
            named[names[column]] = "object"
    return named


def typed_frame(dtypes: dict[str, str], frame: pd.DataFrame | None = None) -> pd.DataFrame:
    """``frame``'s columns of ``dtypes`` in that order and type, or an empty typed table when
    None (an area mart written before a table existed still gives a pack the right columns).
    Empty text columns are ``string``: DuckDB stores an empty object column as INTEGER."""
    if frame is None:
        return pd.DataFrame(
            {
                name: pd.Series(dtype="string" if dtype == "object" else dtype)
                for name, dtype in dtypes.items()
            }
        )
    return frame[list(dtypes)].astype(dtypes).reset_index(drop=True)
