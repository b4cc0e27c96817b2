"""Statistics Denmark's StatBank API (https://api.statbank.dk/v1): what to ask for
(:mod:`~datapakke.raw.statbank.request`), a small HTTP client that asks
(:mod:`~datapakke.raw.statbank.client`), and the reader for what comes back or what an analyst
downloaded from statistikbanken.dk (:mod:`~datapakke.raw.statbank.parse`,
:mod:`~datapakke.raw.statbank.webexport`)."""

from datapakke.raw.statbank.client import StatBankClient, StatBankError, merge_csv_parts
from datapakke.raw.statbank.parse import parse_statbank_csv, read_statbank_extract
from datapakke.raw.statbank.request import (
    CSV_CELL_LIMIT,
    build_data_request,
    count_cells,
    find_variable,
    resolve_values,
    split_for_cell_limit,
)

__all__ = [
    "CSV_CELL_LIMIT",
    "StatBankClient",
    "StatBankError",
    "build_data_request",
    "count_cells",
    "find_variable",
    "merge_csv_parts",
    "parse_statbank_csv",
    "read_statbank_extract",
    "resolve_values",
    "split_for_cell_limit",
]
