"""Statistics for the data packs: intervals, standardisation, comparisons, trends, funnels.

Pure numpy/scipy/pandas, vectorised over whole tables (no I/O, no orchestration). Every public
function accepts array-likes (lists, numpy arrays, pandas Series, nullable pandas dtypes) and
returns numpy arrays or DataFrames. In the numeric functions invalid or missing input gives NaN
output, never a warning: ``n = 0`` (nothing to divide by), a NaN anywhere in a row, negative
counts, ``x > n`` for a proportion. scipy is imported inside the functions that need it: every
process that loads the Dagster code location imports this package (through the area marts), and
most of them (a quiet night, the UI) never compute an interval.

Methods follow the conventions of the English public-health profiles (PHE/OHID "Fingertips"
technical guidance, *Confidence intervals*, 2018), which the packs mirror so that Danish users can
read them like the well-known English ones:

* proportions: Wilson score interval (Newcombe 1998);
* counts and crude rates: exact Poisson below 10 events, Byar's approximation from 10;
* directly standardised rates: European Standard Population 2013 with Dobson intervals;
* comparison with a benchmark by interval overlap (95 % and 99.8 %);
* funnel plots and overdispersion after Spiegelhalter (2005);
* similar municipalities: k nearest neighbours on z-scored features, and the opportunity against
  the peers' median.
"""

from datapakke.mart.stats.compare import compare_to_benchmark
from datapakke.mart.stats.funnel import funnel_limits, overdispersion
from datapakke.mart.stats.intervals import (
    BYAR_MIN_COUNT,
    Z95,
    Z998,
    poisson_count_interval,
    rate_interval,
    wilson_interval,
)
from datapakke.mart.stats.peers import opportunity, peer_groups
from datapakke.mart.stats.standardise import DSR_COLUMNS, age_band_of, direct_standardised_rate
from datapakke.mart.stats.trend import TREND_COLUMNS, TREND_KINDS, trend_test

__all__ = [
    "BYAR_MIN_COUNT",
    "DSR_COLUMNS",
    "TREND_COLUMNS",
    "TREND_KINDS",
    "Z95",
    "Z998",
    "age_band_of",
    "compare_to_benchmark",
    "direct_standardised_rate",
    "funnel_limits",
    "opportunity",
    "overdispersion",
    "peer_groups",
    "poisson_count_interval",
    "rate_interval",
    "trend_test",
    "wilson_interval",
]
