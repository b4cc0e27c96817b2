"""Statistical disclosure control: primary and secondary suppression over overlapping groupings.

Packs publish counts for municipalities and for every area of several overlapping groupings
(clusters, councils, regions, Denmark), often split by sex. Hiding the small counts (*primary*
suppression) is not enough: a hidden count can often be recovered by adding and subtracting
published figures, and since the groupings overlap this has to be prevented jointly for all that
is published about one measure × period (a *problem*), not table by table.

Model. A problem has base cells (the finest published grain) and aggregates (sums of base
cells). Every published figure is a linear equation. Moving the published cells to the right-hand
side, each published aggregate becomes a 0/1 row of a matrix ``A`` over the *unknown* cells: the
suppressed ones plus cells whose value is NaN (not published, unknown to everyone). A suppressed
cell ``j`` is recoverable exactly when ``e_j`` lies in the row space of ``A``; a suppressed
aggregate exactly when its indicator vector over the unknown cells does (so one whose members are
all published is trivially recoverable). Suppressed aggregates give no row.

Arithmetic. Row-space membership is decided by Gauss-Jordan elimination over the integers modulo
the prime ``p = 2**31 - 1`` in numpy int64 (products of residues stay below 2**62). That is exact
and needs no tolerance, unlike a floating ``matrix_rank``, whose rank decision can err in the
unsafe direction (a cell looking protected when it is not). It agrees with elimination over the
rationals unless ``p`` divides every non-zero maximal minor of ``A``: impossible up to rank 22
(Hadamard's bound for 0/1 matrices stays below ``p``), and beyond that ``p`` would have to divide
the gcd of those minors, which for aggregation matrices is a small number. The tests cross-check
against ``Fraction`` elimination, which is hundreds of times slower on a realistic problem. One
elimination answers every target at once (via the null space), in milliseconds.

Secondary suppression (``protect``) hides, for each revealed target, the cheapest *pattern*: a
change of hidden cells that leaves every published figure unchanged but moves the target (solved
as a small LP with scipy's HiGHS). This replaces the simpler rule "hide the smallest member of
the aggregate that exposes it", which cannot protect a small municipality total: the area total
minus the other municipalities' totals reveals it whichever cells are hidden, and that rule
spirals into hiding most of the table. Already hidden cells cost nothing, so complements are
shared; zeros and aggregates are last resorts; a final pass publishes unneeded complements.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

_PRIME = 2_147_483_647  # 2**31 - 1: the product of two residues fits in int64
_REASON_PRIMARY = "primary"
_REASON_SECONDARY = "secondary"


@dataclass(frozen=True)
class DisclosureProblem:
    """One measure × period: the base cells and the aggregates published over them.

    ``cells`` maps a cell id to its count (NaN = not published and unknown to a reader: it is an
    unknown in the equations, never a target). ``aggregates`` maps an aggregate id to its member
    cell ids. ``totals`` optionally gives an aggregate's published value when that is not simply
    the sum of its known members (it only feeds the primary rule).
    """

    cells: dict[str, float]
    aggregates: dict[str, tuple[str, ...]]
    totals: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class DisclosureResult:
    """What must not be published: primary and secondary cells, and suppressed aggregates."""

    primary_cells: frozenset[str]
    secondary_cells: frozenset[str]
    suppressed_aggregates: frozenset[str]
    # The subset of ``suppressed_aggregates`` that is small in its own right (vs. complements).
    primary_aggregates: frozenset[str] = frozenset()

    @property
    def suppressed_cells(self) -> frozenset[str]:
        return self.primary_cells | self.secondary_cells

    def is_suppressed(self, id_: str) -> bool:
        """True for a suppressed cell or aggregate id (one lookup for every published unit)."""
        return (
            id_ in self.primary_cells
            or id_ in self.secondary_cells
            or id_ in self.suppressed_aggregates
        )

    def reason(self, id_: str) -> str:
        """'primary', 'secondary' or '' — why a unit is not published."""
        if id_ in self.primary_cells or id_ in self.primary_aggregates:
            return _REASON_PRIMARY
        if id_ in self.secondary_cells or id_ in self.suppressed_aggregates:
            return _REASON_SECONDARY
        return ""


# ---------------------------------------------------------------- compiled problem
@dataclass(frozen=True)
class _Compiled:
    """A problem as arrays, so the audit and the heuristic are vectorised."""

    cell_ids: list[str]
    agg_ids: list[str]
    values: np.ndarray  # float, one per cell (NaN = unknown)
    members: np.ndarray  # bool, aggregates × cells
    agg_values: np.ndarray  # float: published total (given, or sum of known members)
    agg_known: np.ndarray  # bool: that total is known (given, or no member unknown)

    @property
    def unknown(self) -> np.ndarray:
        return np.isnan(self.values)


def _compile(problem: DisclosureProblem) -> _Compiled:
    cell_ids = list(problem.cells)
    agg_ids = list(problem.aggregates)
    index = {c: i for i, c in enumerate(cell_ids)}
    clash = set(agg_ids) & index.keys()
    if clash:
        raise ValueError(f"ids used both as cell and aggregate: {sorted(clash)[:5]}")
    values = np.array([problem.cells[c] for c in cell_ids], dtype=float)
    members = np.zeros((len(agg_ids), len(cell_ids)), dtype=bool)
    for row, agg in enumerate(agg_ids):
        parts = problem.aggregates[agg]
        if not parts:
            raise ValueError(f"aggregate {agg!r} has no member cells")
        if len(set(parts)) != len(parts):
            raise ValueError(f"aggregate {agg!r} lists a member twice")
        try:
            members[row, [index[c] for c in parts]] = True
        except KeyError as err:
            raise ValueError(f"aggregate {agg!r} has a member that is not a cell: {err}") from None
    unknown_totals = set(problem.totals) - set(agg_ids)
    if unknown_totals:
        raise ValueError(f"totals given for unknown aggregates: {sorted(unknown_totals)[:5]}")
    known_values = np.where(np.isnan(values), 0.0, values)
    sums = members.astype(float) @ known_values
    any_known = (members & ~np.isnan(values)).any(axis=1)
    agg_values = np.where(any_known, sums, np.nan)
    agg_known = ~(members & np.isnan(values)).any(axis=1)
    for row, agg in enumerate(agg_ids):
        total = problem.totals.get(agg)
        if total is not None and not math.isnan(total):
            agg_values[row] = total
            agg_known[row] = True
    return _Compiled(cell_ids, agg_ids, values, members, agg_values, agg_known)


def _sensitive(values: np.ndarray, threshold: int, zero_is_disclosive: bool) -> np.ndarray:
    """The primary rule: 1..threshold-1 (and 0 if asked); NaN is never sensitive."""
    with np.errstate(invalid="ignore"):
        small = (values > 0) & (values < threshold)
        if zero_is_disclosive:
            small |= values == 0
    return small


# ---------------------------------------------------------------- exact null space
def _null_space(rows: np.ndarray) -> np.ndarray:
    """Basis (columns) of the null space of a 0/1 matrix over the integers modulo the prime.

    Plain Gauss-Jordan elimination, vectorised per pivot. A vector lies in the row space exactly
    when it is orthogonal to this basis, so one elimination answers every target at once.
    """
    rows = _distinct_rows(rows)
    n_cols = rows.shape[1]
    work = rows.astype(np.int64)
    pivots: list[int] = []
    top = 0
    for col in range(n_cols):
        if top == work.shape[0]:
            break
        nonzero = top + np.flatnonzero(work[top:, col])
        if nonzero.size == 0:
            continue
        first = nonzero[0]
        if first != top:
            work[[top, first]] = work[[first, top]]
        pivot = work[top] * pow(int(work[top, col]), _PRIME - 2, _PRIME) % _PRIME
        work[top] = pivot
        others = np.flatnonzero(work[:, col])
        others = others[others != top]
        if others.size:
            block = work[others]
            block -= np.outer(block[:, col], pivot)  # residues < 2**31: stays above -2**62
            block %= _PRIME
            work[others] = block
        pivots.append(col)
        top += 1
    free = np.setdiff1d(np.arange(n_cols), pivots)
    basis = np.zeros((n_cols, free.size), dtype=np.int64)
    basis[free, np.arange(free.size)] = 1
    if pivots:
        basis[pivots] = (-work[: len(pivots)][:, free]) % _PRIME
    return basis


def _distinct_rows(rows: np.ndarray) -> np.ndarray:
    """Non-zero rows of a 0/1 matrix with duplicates dropped (exactly, by their packed bytes)."""
    rows = rows[rows.any(axis=1)]
    first: dict[bytes, int] = {}
    for i, key in enumerate(np.packbits(rows, axis=1)):
        first.setdefault(key.tobytes(), i)
    return rows[list(first.values())]


def _revealed(targets: np.ndarray, basis: np.ndarray) -> np.ndarray:
    """Which 0/1 target rows lie in the row space, i.e. are orthogonal to the null space."""
    if targets.shape[0] == 0 or basis.shape[1] == 0:
        return np.ones(targets.shape[0], dtype=bool)
    # 0/1 times residues < 2**31, summed over < 2**32 terms: exact in int64.
    return ~((targets.astype(np.int64) @ basis) % _PRIME).any(axis=1)


@dataclass
class _Audit:
    """The exact audit of one suppression state, kept up to date while complements are pruned.

    ``columns`` are the unknown cells, ``basis`` the null space of the published rows over them.
    Publishing one more unit adds one linear constraint on the null space, so the basis is
    updated in place (one rank-one step) instead of eliminating again.
    """

    comp: _Compiled
    cells: np.ndarray  # bool: suppressed cells
    aggs: np.ndarray  # bool: suppressed aggregates
    target_aggs: np.ndarray  # indices of aggregates that must stay hidden (primary)
    columns: np.ndarray = field(init=False)
    basis: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        self.columns = np.flatnonzero(self.cells | self.comp.unknown)
        rows = self.comp.members[~self.aggs][:, self.columns]
        self.basis = _null_space(rows)

    def revealed(
        self, target_cells: np.ndarray | None = None, target_aggs: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Indices of the target cells and aggregates (default: all hidden ones) revealed."""
        if target_cells is None:
            target_cells = np.flatnonzero(self.cells)
        if target_aggs is None:
            target_aggs = self.target_aggs
        return (
            target_cells[_revealed(self._cell_rows(target_cells), self.basis)],
            target_aggs[_revealed(self.comp.members[target_aggs][:, self.columns], self.basis)],
        )

    def _cell_rows(self, target_cells: np.ndarray) -> np.ndarray:
        rows = np.zeros((target_cells.size, self.columns.size), dtype=bool)
        rows[np.arange(target_cells.size), np.searchsorted(self.columns, target_cells)] = True
        return rows

    def try_publish(self, kind: str, index: int) -> bool:
        """Publish one secondary cell or aggregate if every target stays hidden; say if it did."""
        if kind == "cell":
            position = int(np.searchsorted(self.columns, index))
            constraint = self.basis[position]
        else:
            row = self.comp.members[index, self.columns].astype(np.int64)
            constraint = (row @ self.basis) % _PRIME
        basis = self.basis
        nonzero = np.flatnonzero(constraint)
        if nonzero.size:
            # Keep the combinations of the basis that satisfy the new constraint.
            i = nonzero[0]
            scaled = constraint * pow(int(constraint[i]), _PRIME - 2, _PRIME) % _PRIME
            basis = (basis - np.outer(basis[:, i], scaled) % _PRIME) % _PRIME
            basis = np.delete(basis, i, axis=1)
        cells, aggs, columns = self.cells.copy(), self.aggs.copy(), self.columns
        if kind == "cell":
            cells[index] = False
            basis = np.delete(basis, position, axis=0)
            columns = np.delete(columns, position)
        else:
            aggs[index] = False
        saved = (self.cells, self.aggs, self.columns, self.basis)
        self.cells, self.aggs, self.columns, self.basis = cells, aggs, columns, basis
        hit_cells, hit_aggs = self.revealed()
        if hit_cells.size or hit_aggs.size:
            self.cells, self.aggs, self.columns, self.basis = saved
            return False
        return True


# ---------------------------------------------------------------- public audit
def recoverable_cells(
    problem: DisclosureProblem,
    suppressed_cells: Iterable[str],
    suppressed_aggregates: Iterable[str],
    threshold: int = 5,
    zero_is_disclosive: bool = False,
) -> list[str]:
    """The audit: suppressed units that the published figures reveal (empty = safe).

    Every suppressed cell is checked, whatever its value: a revealed complement would unlock the
    cell it protects. A suppressed aggregate is checked unless its total is known and not
    sensitive, so auditing a published table where suppressed cells read NaN checks them all.
    """
    comp = _compile(problem)
    cell_pos = {c: i for i, c in enumerate(comp.cell_ids)}
    agg_pos = {a: i for i, a in enumerate(comp.agg_ids)}
    cells = np.zeros(len(comp.cell_ids), dtype=bool)
    aggs = np.zeros(len(comp.agg_ids), dtype=bool)
    for id_ in suppressed_cells:
        if id_ not in cell_pos:
            raise ValueError(f"suppressed cell {id_!r} is not a cell of the problem")
        cells[cell_pos[id_]] = True
    for id_ in suppressed_aggregates:
        if id_ not in agg_pos:
            raise ValueError(f"suppressed aggregate {id_!r} is not an aggregate of the problem")
        aggs[agg_pos[id_]] = True
    safe_total = comp.agg_known & ~_sensitive(comp.agg_values, threshold, zero_is_disclosive)
    audit = _Audit(comp, cells, aggs, np.flatnonzero(aggs & ~safe_total))
    hit_cells, hit_aggs = audit.revealed()
    return [comp.cell_ids[i] for i in hit_cells] + [comp.agg_ids[i] for i in hit_aggs]


# ---------------------------------------------------------------- secondary suppression
# Costs of hiding one more unit, for the pattern LP. Already hidden or unknown units are free; a
# non-zero cell costs 1 + log(1 + value) (few and small complements); a zero cell is a last
# resort and an aggregate (the figures the packs exist for) a later one still.
_COST_ZERO_CELL = 50.0
_COST_AGGREGATE = 100.0
_SUPPORT_TOL = 1e-7


class _PatternLP:
    """Cheapest perturbation pattern that hides one target: the protection LP of one problem.

    A target is safe exactly when some change ``z`` of the hidden cells leaves every published
    figure unchanged but changes the target (``z`` in the null space of ``A``, not orthogonal to
    the target). To protect a target we look for the cheapest ``z`` with target change 1, where
    making a published cell non-zero in ``z`` means hiding it and unbalancing a published
    aggregate means hiding that aggregate: minimise ``sum c_k |z_k| + sum w_r |(Mz)_r|``, an L1
    problem solved as an LP (HiGHS). In a municipality × sex table the answer is the classic
    rectangle: the target, its other sex, and the same two cells of a municipality sharing its
    cluster, council and region. The LP only proposes; the exact audit decides.
    """

    def __init__(self, comp: _Compiled) -> None:
        self.members = comp.members
        self.members_float = comp.members.astype(float)
        n_cells = comp.members.shape[1]
        values = comp.values
        cell_cost = np.where(values == 0, _COST_ZERO_CELL, 1.0 + np.log1p(np.abs(values)))
        self.cell_cost = np.where(np.isnan(values), 0.0, cell_cost)
        self.agg_cost = _COST_AGGREGATE + np.log1p(np.abs(np.nan_to_num(comp.agg_values)))
        # Aggregates too broad to define a neighbourhood (Denmark, large regions).
        self.broad = comp.members.sum(axis=1) > max(2, n_cells // 4)

    def solve(
        self, target: np.ndarray, unknown: np.ndarray, hidden_aggs: np.ndarray
    ) -> np.ndarray | None:
        """The pattern ``z`` over all cells (None if the solver fails).

        Patterns are local, so the LP is first solved over the target's neighbourhood (cells
        sharing a not-too-broad aggregate with it; a valid pattern there is valid everywhere)
        and only over all cells if the local one needs a zero cell or an aggregate hidden.
        """
        local = self.members[~self.broad & self.members[:, target].any(axis=1)].any(axis=0)
        local |= target
        if local.all():
            return self._solve(target, unknown, hidden_aggs, np.flatnonzero(local))[0]
        z, cost = self._solve(target, unknown, hidden_aggs, np.flatnonzero(local))
        if z is not None and cost < _COST_ZERO_CELL:
            return z
        return self._solve(target, unknown, hidden_aggs, np.arange(target.size))[0]

    def _solve(
        self, target: np.ndarray, unknown: np.ndarray, hidden_aggs: np.ndarray, cols: np.ndarray
    ) -> tuple[np.ndarray | None, float]:
        # Here, not at the top: every load of the code location would import scipy's solvers.
        from scipy import sparse
        from scipy.optimize import linprog

        rows = np.flatnonzero(~hidden_aggs & self.members[:, cols].any(axis=1))
        n_rows, n_cols = rows.size, cols.size
        # Columns z+, z-, s+, s-: sum(z+ - z-) over an aggregate = s+ - s-; target change 1.
        dense = np.zeros((n_rows + 1, 2 * n_cols + 2 * n_rows))
        block = self.members[np.ix_(rows, cols)].astype(float)
        dense[:n_rows, :n_cols] = block
        dense[:n_rows, n_cols : 2 * n_cols] = -block
        diagonal = np.arange(n_rows)
        dense[diagonal, 2 * n_cols + diagonal] = -1.0
        dense[diagonal, 2 * n_cols + n_rows + diagonal] = 1.0
        goal = target[cols].astype(float)
        dense[n_rows, :n_cols] = goal
        dense[n_rows, n_cols : 2 * n_cols] = -goal
        matrix = sparse.csc_matrix(dense)
        cell_cost = np.where(unknown[cols], 0.0, self.cell_cost[cols])
        agg_cost = self.agg_cost[rows]
        rhs = np.zeros(n_rows + 1)
        rhs[-1] = 1.0
        result = linprog(
            np.concatenate([cell_cost, cell_cost, agg_cost, agg_cost]),
            A_eq=matrix,
            b_eq=rhs,
            bounds=(0, None),
            method="highs-ds",
            options={"presolve": False},  # tiny LPs: presolve costs more than it saves
        )
        if result.status != 0:
            return None, math.inf
        z = np.zeros(target.size)
        z[cols] = result.x[: cols.size] - result.x[cols.size : 2 * cols.size]
        return z, float(result.fun)


def _tightest_row(
    comp: _Compiled, support: np.ndarray, unknown: np.ndarray, hidden_aggs: np.ndarray
) -> int | None:
    """The published aggregate exposing a target most directly (fewest other unknowns)."""
    touching = np.flatnonzero(~hidden_aggs & comp.members[:, support & unknown].any(axis=1))
    if touching.size == 0:
        return None
    others = (comp.members[touching] & unknown & ~support).sum(axis=1)
    return int(touching[np.argmin(others)])


def _secondary(comp: _Compiled, cells: np.ndarray, aggs: np.ndarray, targets: np.ndarray) -> None:
    """Grow the suppressed sets (in place) until the audit finds nothing revealed.

    Each round audits once, then gives every revealed target that no pattern of this round
    already covers its own cheapest pattern, hiding the pattern's cells and the aggregates it
    unbalances. Every round hides something new, so the loop ends.
    """
    lp: _PatternLP | None = None
    while True:
        hit_cells, hit_aggs = _Audit(comp, cells, aggs, targets).revealed()
        if hit_cells.size == 0 and hit_aggs.size == 0:
            return
        lp = lp or _PatternLP(comp)
        supports = [np.arange(len(comp.cell_ids)) == i for i in hit_cells]
        supports += [comp.members[i] for i in hit_aggs]
        patterns: list[np.ndarray] = []
        grew = False
        for support in supports:
            if any(abs(z[support].sum()) > _SUPPORT_TOL for z in patterns):
                continue  # this round's patterns already hide it
            unknown = cells | comp.unknown
            z = lp.solve(support, unknown, aggs)
            if z is None:
                continue
            z[np.abs(z) <= _SUPPORT_TOL] = 0.0
            new_cells = (z != 0) & ~unknown
            unbalanced = ~aggs & (np.abs(lp.members_float @ z) > _SUPPORT_TOL)
            if new_cells.any() or unbalanced.any():
                cells |= new_cells
                aggs |= unbalanced
                grew = True
            patterns.append(z)
        if grew:
            continue
        # The LP proposed nothing new (a numerical edge): hide the most direct exposing
        # aggregate, or a published member, of the first revealed target.
        support = supports[0]
        unknown = cells | comp.unknown
        row = _tightest_row(comp, support, unknown, aggs)
        published_members = np.flatnonzero(support & ~unknown)
        if row is not None:
            aggs[row] = True
        elif published_members.size:
            cells[published_members[0]] = True
        else:
            raise RuntimeError("secondary suppression made no progress")  # unreachable


def _prune(
    comp: _Compiled,
    cells: np.ndarray,
    aggs: np.ndarray,
    primary_cells: np.ndarray,
    targets: np.ndarray,
) -> None:
    """Publish again every complement that turns out unnecessary (greedy, in place).

    Patterns found early can be made redundant by later ones. Each secondary aggregate, then
    each secondary cell from the largest value down, then the aggregates once more, is tried
    published again and stays published if every target stays hidden. The last pass also
    publishes any hidden aggregate that the rest reveals anyway (it protects nothing), so even
    an audit that cannot tell complements from small totals passes.
    """
    audit = _Audit(comp, cells.copy(), aggs.copy(), targets)
    primary_aggs = np.zeros(len(comp.agg_ids), dtype=bool)
    primary_aggs[targets] = True
    secondary_cells = np.flatnonzero(cells & ~primary_cells)
    cell_order = secondary_cells[np.argsort(-comp.values[secondary_cells], kind="stable")]
    for kind, order in (
        ("agg", np.flatnonzero(aggs & ~primary_aggs)),
        ("cell", cell_order),
        ("agg", np.flatnonzero(aggs & ~primary_aggs)),
    ):
        for index in order:
            flags = audit.aggs if kind == "agg" else audit.cells
            if flags[index]:
                audit.try_publish(kind, int(index))
    cells[:] = audit.cells
    aggs[:] = audit.aggs


def protect(
    problem: DisclosureProblem, threshold: int = 5, zero_is_disclosive: bool = False
) -> DisclosureResult:
    """Primary then secondary suppression until ``recoverable_cells`` finds nothing.

    Primary: cells and aggregates whose own count is 1..threshold-1 (0 too with
    ``zero_is_disclosive``). Secondary: for each revealed cell or small aggregate, the cheapest
    pattern of complements that hides it (``_PatternLP``), round by round until the exact audit
    is clean; then complements that became unnecessary are published again (``_prune``). A
    final full audit, with every hidden aggregate treated as sensitive, guards the result.
    """
    if threshold < 1:
        raise ValueError(f"threshold must be at least 1, got {threshold}")
    comp = _compile(problem)
    primary_cells = _sensitive(comp.values, threshold, zero_is_disclosive)
    primary_aggs = _sensitive(comp.agg_values, threshold, zero_is_disclosive)
    targets = np.flatnonzero(primary_aggs)
    cells = primary_cells.copy()
    aggs = primary_aggs.copy()
    _secondary(comp, cells, aggs, targets)
    _prune(comp, cells, aggs, primary_cells, targets)
    while True:  # belt and braces: the strict audit, as a reader of the tables would run it
        strict = _Audit(comp, cells, aggs, np.flatnonzero(aggs))
        hit_cells, hit_aggs = strict.revealed()
        if hit_cells.size == 0 and hit_aggs.size == 0:
            break
        _secondary(comp, cells, aggs, np.flatnonzero(aggs))
    return DisclosureResult(
        primary_cells=frozenset(_ids(comp.cell_ids, primary_cells)),
        secondary_cells=frozenset(_ids(comp.cell_ids, cells & ~primary_cells)),
        suppressed_aggregates=frozenset(_ids(comp.agg_ids, aggs)),
        primary_aggregates=frozenset(_ids(comp.agg_ids, primary_aggs)),
    )


def _ids(ids: list[str], mask: np.ndarray) -> list[str]:
    return [ids[i] for i in np.flatnonzero(mask)]


# ---------------------------------------------------------------- table helper
