"""Disclosure control: attacks that must fail, each checked by an independent exact attacker.

The attacker below is written from scratch with ``Fraction`` Gauss-Jordan elimination (no
numpy, no modular arithmetic), so it shares nothing with the module's audit. It takes what a
reader sees (published cells and aggregate totals) and returns every hidden unit whose value it
can pin down by adding and subtracting. Negative controls show it does recover small counts when
only primary suppression is applied.
"""

from __future__ import annotations

import math
import random
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from datapakke.geography import default_geography
from datapakke.mart import disclosure
from datapakke.mart.disclosure import (
    DisclosureProblem,
    DisclosureResult,
    _null_space,
    protect,
    recoverable_cells,
)

NAN = math.nan


# ---------------------------------------------------------------- the independent attacker
def _rref(rows: list[list[Fraction]], n_cols: int) -> list[tuple[int, list[Fraction]]]:
    """Exact reduced row echelon form; returns (pivot column, row) pairs."""
    rows = [r[:] for r in rows]
    basis: list[tuple[int, list[Fraction]]] = []
    for col in range(n_cols):
        pivot = next((r for r in rows if r[col] != 0), None)
        if pivot is None:
            continue
        rows.remove(pivot)
        pivot = [x / pivot[col] for x in pivot]
        rows = [[x - r[col] * p for x, p in zip(r, pivot, strict=True)] for r in rows]
        basis = [(c, [x - b[col] * p for x, p in zip(b, pivot, strict=True)]) for c, b in basis]
        basis.append((col, pivot))
    return basis


def _true(problem: DisclosureProblem, cell: str) -> Fraction:
    value = problem.cells[cell]
    return Fraction(0) if math.isnan(value) else Fraction(value)


def _total(problem: DisclosureProblem, agg: str) -> Fraction:
    if agg in problem.totals:
        return Fraction(problem.totals[agg])
    return sum((_true(problem, c) for c in problem.aggregates[agg]), Fraction(0))


def attack(
    problem: DisclosureProblem, hidden_cells: set[str], hidden_aggs: set[str]
) -> dict[str, Fraction]:
    """Every hidden cell or aggregate whose value follows from the published figures."""
    unknown = [c for c in problem.cells if c in hidden_cells or math.isnan(problem.cells[c])]
    column = {c: i for i, c in enumerate(unknown)}
    equations = []
    for agg, members in problem.aggregates.items():
        if agg in hidden_aggs:
            continue
        row = [Fraction(0)] * (len(unknown) + 1)
        row[-1] = _total(problem, agg)
        for cell in members:
            if cell in column:
                row[column[cell]] += 1
            else:
                row[-1] -= Fraction(problem.cells[cell])
        equations.append(row)
    basis = _rref(equations, len(unknown))
    found: dict[str, Fraction] = {}
    targets = [(c, {c}) for c in hidden_cells]
    targets += [(a, set(problem.aggregates[a])) for a in hidden_aggs]
    for id_, members in targets:
        residual = [Fraction(int(u in members)) for u in unknown]
        value = sum((Fraction(problem.cells[c]) for c in members if c not in column), Fraction(0))
        for col, row in basis:
            factor = residual[col]
            if factor:
                residual = [x - factor * r for x, r in zip(residual, row, strict=False)]
                value += factor * row[-1]
        if not any(residual):
            found[id_] = value
    return found


def attack_result(problem: DisclosureProblem, result: DisclosureResult) -> dict[str, Fraction]:
    return attack(problem, set(result.suppressed_cells), set(result.suppressed_aggregates))


def published_view(problem: DisclosureProblem, result: DisclosureResult) -> DisclosureProblem:
    """What the engine's audit sees: suppressed cells read NaN."""
    cells = {c: NAN if c in result.suppressed_cells else v for c, v in problem.cells.items()}
    return DisclosureProblem(cells=cells, aggregates=problem.aggregates)


def assert_safe(problem: DisclosureProblem, result: DisclosureResult) -> None:
    assert attack_result(problem, result) == {}
    assert recoverable_cells(problem, result.suppressed_cells, result.suppressed_aggregates) == []
    view = published_view(problem, result)
    assert recoverable_cells(view, result.suppressed_cells, result.suppressed_aggregates) == []


def area(cells: dict[str, float], groups: dict[str, list[str]]) -> DisclosureProblem:
    """A problem from plain cells and aggregate member lists."""
    return DisclosureProblem(cells=cells, aggregates={k: tuple(v) for k, v in groups.items()})


# ---------------------------------------------------------------- primary rule
def test_primary_rule_hides_one_to_four_and_publishes_zero() -> None:
    cells = {f"c{v}": float(v) for v in range(8)}
    result = protect(DisclosureProblem(cells=cells, aggregates={}))
    assert result.primary_cells == {"c1", "c2", "c3", "c4"}
    assert result.secondary_cells == frozenset()


@pytest.mark.parametrize(
    ("threshold", "hidden"),
    [
        (3, {"c1", "c2"}),
        (5, {"c1", "c2", "c3", "c4"}),
        (1, set()),
        (7, {f"c{v}" for v in range(1, 7)}),
    ],
)
def test_threshold_is_configurable(threshold: int, hidden: set[str]) -> None:
    cells = {f"c{v}": float(v) for v in range(8)}
    result = protect(DisclosureProblem(cells=cells, aggregates={}), threshold=threshold)
    assert result.primary_cells == hidden


def test_threshold_three_keeps_three_and_four_published_in_an_area() -> None:
    problem = area({"a": 2.0, "b": 3.0, "c": 4.0, "d": 30.0}, {"A": ["a", "b", "c", "d"]})
    result = protect(problem, threshold=3)
    assert result.primary_cells == {"a"}
    assert result.secondary_cells == {"b"}  # the smallest non-zero other member
    assert_safe(problem, result)


def test_zero_is_published_by_default_and_hidden_when_disclosive() -> None:
    problem = area({"a": 0.0, "b": 7.0, "c": 9.0, "d": 12.0}, {"A": ["a", "b", "c", "d"]})
    assert protect(problem).suppressed_cells == frozenset()
    result = protect(problem, zero_is_disclosive=True)
    assert result.primary_cells == {"a"}
    assert result.secondary_cells == {"b"}
    assert_safe(problem, result)


def test_zero_cells_are_complements_only_as_a_last_resort() -> None:
    problem = area({"a": 3.0, "z": 0.0, "b": 40.0}, {"A": ["a", "z", "b"]})
    assert protect(problem).secondary_cells == {"b"}
    # b is pinned by an aggregate of its own, so the zero is the only cell that can balance a.
    pinned = area({"a": 3.0, "z": 0.0, "b": 40.0}, {"A": ["a", "z", "b"], "B": ["b"]})
    result = protect(pinned)
    assert result.secondary_cells == {"z"}
    assert result.suppressed_aggregates == frozenset()
    assert_safe(pinned, result)


def test_invalid_threshold_and_unknown_members_are_rejected() -> None:
    with pytest.raises(ValueError, match="threshold"):
        protect(DisclosureProblem(cells={"a": 1.0}, aggregates={}), threshold=0)
    with pytest.raises(ValueError, match="not a cell"):
        protect(DisclosureProblem(cells={"a": 1.0}, aggregates={"A": ("a", "b")}))
    with pytest.raises(ValueError, match="twice"):
        protect(DisclosureProblem(cells={"a": 1.0}, aggregates={"A": ("a", "a")}))
    with pytest.raises(ValueError, match="both"):
        protect(DisclosureProblem(cells={"a": 1.0}, aggregates={"a": ("a",)}))


# ---------------------------------------------------------------- attacks
def test_attack_works_on_primary_suppression_alone() -> None:
    """Negative control: the attacker recovers a lone hidden cell from its area total."""
    problem = area({"a": 3.0, "b": 20.0, "c": 8.0, "d": 40.0}, {"A": ["a", "b", "c", "d"]})
    assert attack(problem, {"a"}, set()) == {"a": Fraction(3)}
    assert recoverable_cells(problem, {"a"}, set()) == ["a"]


def test_single_small_cell_in_an_area_gets_one_small_complement() -> None:
    problem = area({"a": 3.0, "b": 20.0, "c": 8.0, "d": 40.0}, {"A": ["a", "b", "c", "d"]})
    result = protect(problem)
    assert result.primary_cells == {"a"}
    assert result.secondary_cells == {"c"}
    assert result.suppressed_aggregates == frozenset()
    assert_safe(problem, result)


def test_two_member_total_hides_the_other_member_not_the_total() -> None:
    problem = area({"m": 2.0, "k": 40.0}, {"T": ["m", "k"]})
    result = protect(problem)
    assert result.secondary_cells == {"k"}
    assert not result.is_suppressed("T")
    assert_safe(problem, result)


def test_overlapping_groupings_whose_difference_isolates_a_municipality() -> None:
    """Cluster A = {1,2,3} minus council B = {1,2} is municipality 3, whatever cells are hidden."""
    problem = area({"1": 10.0, "2": 12.0, "3": 2.0}, {"A": ["1", "2", "3"], "B": ["1", "2"]})
    assert attack(problem, {"3"}, set()) == {"3": Fraction(2)}
    assert attack(problem, {"1", "2", "3"}, set()) == {"3": Fraction(2)}  # cells cannot help
    result = protect(problem)
    assert result.suppressed_aggregates & {"A", "B"}
    assert_safe(problem, result)


def test_overlapping_groupings_with_room_for_cell_complements() -> None:
    cells = {
        str(m): float(v) for m, v in zip(range(1, 9), [10, 12, 2, 30, 25, 40, 9, 7], strict=True)
    }
    groups = {
        "cluster:A": ["1", "2", "3", "4"],
        "cluster:B": ["5", "6", "7", "8"],
        "council:X": ["1", "2", "5"],
        "council:Y": ["3", "4", "6", "7", "8"],
        "DK": [str(m) for m in range(1, 9)],
    }
    problem = area(cells, groups)
    assert "3" in attack(problem, {"3"}, set())
    result = protect(problem)
    assert result.suppressed_aggregates == frozenset()  # cells suffice here
    assert_safe(problem, result)


def test_region_total_minus_its_visible_members() -> None:
    north = {f"n{i}": float(v) for i, v in enumerate([30, 3, 18, 55, 21])}
    south = {f"s{i}": float(v) for i, v in enumerate([41, 12, 9, 60])}
    groups = {"region:N": list(north), "region:S": list(south), "DK": [*north, *south]}
    problem = area({**north, **south}, groups)
    assert attack(problem, {"n1"}, set()) == {"n1": Fraction(3)}
    result = protect(problem)
    assert result.primary_cells == {"n1"}
    assert result.secondary_cells == {"n2"}  # the smallest other member of the region
    assert_safe(problem, result)


def _sex_table(
    values: dict[str, tuple[float, float]], areas: dict[str, list[str]]
) -> DisclosureProblem:
    """Municipality × sex cells; municipality totals; every area by M, K and T."""
    cells = {f"{m}|{s}": v for m, pair in values.items() for s, v in zip("MK", pair, strict=True)}
    aggs: dict[str, tuple[str, ...]] = {f"{m}|T": (f"{m}|M", f"{m}|K") for m in values}
    for name, munis in areas.items():
        aggs[f"{name}|M"] = tuple(f"{m}|M" for m in munis)
        aggs[f"{name}|K"] = tuple(f"{m}|K" for m in munis)
        aggs[f"{name}|T"] = tuple(f"{m}|{s}" for m in munis for s in "MK")
    return DisclosureProblem(cells=cells, aggregates=aggs)


def test_sex_breakdown_small_men_count() -> None:
    values = {"101": (2.0, 40.0), "102": (25.0, 31.0), "103": (60.0, 58.0), "104": (14.0, 19.0)}
    areas = {"A": ["101", "102", "103", "104"], "R": ["101", "102", "103", "104"]}
    problem = _sex_table(values, areas)
    assert attack(problem, {"101|M"}, set()) == {"101|M": Fraction(2)}
    # Hiding the other sex alone is not enough: the area's men total still gives it away.
    assert "101|M" in attack(problem, {"101|M", "101|K"}, set())
    result = protect(problem)
    assert result.primary_cells == {"101|M"}
    assert result.is_suppressed("101|K") or result.is_suppressed("101|T")
    # The classic rectangle: the other sex, and both sexes of one more municipality.
    assert result.secondary_cells == {"101|K", "104|M", "104|K"}
    assert result.suppressed_aggregates == frozenset()
    assert_safe(problem, result)


def test_kobenhavn_style_double_membership() -> None:
    """Municipality 101 is a member of two clusters of the same grouping."""
    values = {
        "101": (3.0, 250.0),
        "147": (80.0, 85.0),
        "155": (40.0, 44.0),
        "157": (30.0, 33.0),
        "159": (26.0, 29.0),
        "161": (22.0, 20.0),
    }
    areas = {
        "klynge:byen": ["101", "147", "155"],
        "klynge:syd": ["101", "157", "159", "161"],
        "raad:x": ["101", "147", "155", "157"],
        "raad:y": ["159", "161"],
        "region:H": list(values),
        "DK": list(values),
    }
    problem = _sex_table(values, areas)
    assert "101|M" in attack(problem, {"101|M"}, set())
    result = protect(problem)
    assert "101|M" in result.primary_cells
    assert_safe(problem, result)


def test_double_member_hidden_by_difference_of_its_two_clusters() -> None:
    cells = {"101": 3.0, "147": 20.0, "155": 17.0, "157": 9.0, "159": 30.0}
    groups = {
        "klynge:byen": ["101", "147", "155"],
        "klynge:syd": ["101", "157", "159"],
        "DK": list(cells),
    }
    problem = area(cells, groups)
    # byen + syd - DK = 101, even with a complement in each cluster
    assert attack(problem, {"101", "147", "157"}, set())["101"] == Fraction(3)
    result = protect(problem)
    assert_safe(problem, result)


def test_small_area_total_recovered_from_a_parent_minus_a_sibling() -> None:
    """Area A (total 3) = region R - area B, whichever cells are hidden: an aggregate must go."""
    cells = {"a1": 1.0, "a2": 2.0, "b1": 50.0, "b2": 60.0}
    groups = {"A": ["a1", "a2"], "B": ["b1", "b2"], "R": ["a1", "a2", "b1", "b2"]}
    problem = area(cells, groups)
    assert attack(problem, {"a1", "a2"}, {"A"}) == {"A": Fraction(3)}
    result = protect(problem)
    assert result.primary_cells == {"a1", "a2"}
    assert "A" in result.primary_aggregates
    assert result.suppressed_aggregates & {"B", "R"}
    assert result.secondary_cells == frozenset()  # hiding b1/b2 would not help: pruned
    assert_safe(problem, result)


def test_small_area_total_whose_members_are_all_published() -> None:
    """A source total of 3 over members that are all published (zeros and a large count)."""
    cells = {"a": 0.0, "b": 0.0, "c": 40.0, "d": 22.0}
    problem = DisclosureProblem(
        cells=cells,
        aggregates={"A": ("a", "b", "c"), "R": ("a", "b", "c", "d")},
        totals={"A": 3.0},
    )
    assert recoverable_cells(problem, set(), {"A"}) == ["A"]  # trivially: members are visible
    result = protect(problem)
    assert result.primary_aggregates == {"A"}
    assert result.secondary_cells  # at least one member is hidden
    assert recoverable_cells(problem, result.suppressed_cells, result.suppressed_aggregates) == []
    view = published_view(problem, result)
    assert recoverable_cells(view, result.suppressed_cells, result.suppressed_aggregates) == []


def test_small_area_total_with_zero_and_small_members() -> None:
    cells = {"a": 0.0, "b": 3.0, "c": 0.0, "d": 30.0, "e": 45.0}
    groups = {"A": ["a", "b", "c"], "R": list(cells), "DK": list(cells)}
    problem = area(cells, groups)
    result = protect(problem)
    assert "A" in result.primary_aggregates and "b" in result.primary_cells
    assert not result.is_suppressed("a") and not result.is_suppressed("c")  # zeros stay
    assert_safe(problem, result)


def test_unknown_cells_are_unknowns_not_targets() -> None:
    """A NaN cell is not published and not known to a reader: it hides its neighbour."""
    problem = area({"a": NAN, "b": 3.0}, {"A": ["a", "b"]})
    result = protect(problem)
    assert result.primary_cells == {"b"}
    assert result.secondary_cells == frozenset()
    assert not result.is_suppressed("a")
    assert_safe(problem, result)


def test_still_safe_when_the_pattern_solver_gives_up(monkeypatch: pytest.MonkeyPatch) -> None:
    """The LP only proposes; without it the fallback still grows the hidden set until safe."""
    monkeypatch.setattr(disclosure._PatternLP, "solve", lambda *args: None)
    for seed in range(3):
        problem = _random_problem(random.Random(seed), 30, small=4)
        assert_safe(problem, protect(problem))
    problem = _sex_table(
        {"101": (2.0, 40.0), "102": (25.0, 31.0), "103": (60.0, 58.0)},
        {"A": ["101", "102", "103"]},
    )
    assert_safe(problem, protect(problem))


# ---------------------------------------------------------------- result API
def test_result_answers_for_cells_and_aggregates() -> None:
    result = DisclosureResult(
        primary_cells=frozenset({"a"}),
        secondary_cells=frozenset({"b"}),
        suppressed_aggregates=frozenset({"A", "B"}),
        primary_aggregates=frozenset({"A"}),
    )
    assert result.suppressed_cells == {"a", "b"}
    assert [result.is_suppressed(x) for x in ("a", "b", "c", "A", "B", "C")] == [
        True,
        True,
        False,
        True,
        True,
        False,
    ]
    assert [result.reason(x) for x in ("a", "b", "c", "A", "B")] == [
        "primary",
        "secondary",
        "",
        "primary",
        "secondary",
    ]


def test_protect_is_deterministic() -> None:
    problem = _random_problem(random.Random(7), 98, small=10)
    assert protect(problem) == protect(problem)


# ---------------------------------------------------------------- exact arithmetic
def _fraction_rank(matrix: np.ndarray) -> int:
    rows = [[Fraction(int(x)) for x in row] for row in matrix]
    return len(_rref(rows, matrix.shape[1]))


@pytest.mark.parametrize("seed", range(6))
def test_modular_null_space_matches_exact_rank_beyond_the_hadamard_guarantee(seed: int) -> None:
    rng = np.random.default_rng(seed)
    matrix = rng.random((40, 32)) < 0.35
    matrix[rng.integers(0, 40, 5)] = matrix[rng.integers(0, 40, 5)]  # some dependent rows
    basis = _null_space(matrix)
    assert matrix.shape[1] - basis.shape[1] == _fraction_rank(matrix)
    assert not ((matrix.astype(np.int64) @ basis) % 2_147_483_647).any()


# ---------------------------------------------------------------- random problems (Hypothesis)
_VALUES = st.sampled_from([0.0, 0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 9.0, 14.0, 40.0, 250.0, NAN])


@st.composite
def small_problems(draw: st.DrawFn) -> DisclosureProblem:
    n = draw(st.integers(1, 8))
    cells = {f"c{i}": draw(_VALUES) for i in range(n)}
    subsets = st.lists(st.integers(0, n - 1), min_size=1, max_size=n, unique=True)
    groups = draw(st.lists(subsets, max_size=6))
    return DisclosureProblem(
        cells=cells,
        aggregates={f"A{k}": tuple(f"c{i}" for i in sorted(g)) for k, g in enumerate(groups)},
    )


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(small_problems(), st.sampled_from([3, 5]), st.booleans())
def test_random_small_problems_resist_the_exact_attack(
    problem: DisclosureProblem, threshold: int, zero_is_disclosive: bool
) -> None:
    result = protect(problem, threshold=threshold, zero_is_disclosive=zero_is_disclosive)
    assert attack_result(problem, result) == {}
    view = published_view(problem, result)
    assert recoverable_cells(view, result.suppressed_cells, result.suppressed_aggregates) == []

    def small(v: float) -> bool:
        return 0 < v < threshold or (zero_is_disclosive and v == 0)

    assert result.primary_cells == {c for c, v in problem.cells.items() if small(v)}
    for agg, members in problem.aggregates.items():
        known = [problem.cells[c] for c in members if not math.isnan(problem.cells[c])]
        if known and small(sum(known)):
            assert agg in result.primary_aggregates and result.is_suppressed(agg)
    assert result.primary_aggregates <= result.suppressed_aggregates
    assert not result.suppressed_cells & {c for c, v in problem.cells.items() if math.isnan(v)}


@settings(max_examples=250, deadline=None)
@given(small_problems(), st.data())
def test_audit_agrees_with_the_exact_attacker(
    problem: DisclosureProblem, data: st.DataObject
) -> None:
    cells = [c for c, v in problem.cells.items() if not math.isnan(v)]
    hidden = set(data.draw(st.lists(st.sampled_from(cells), unique=True))) if cells else set()
    aggs = list(problem.aggregates)
    hidden_aggs = set(data.draw(st.lists(st.sampled_from(aggs), unique=True))) if aggs else set()
    view = DisclosureProblem(
        cells={c: NAN if c in hidden else v for c, v in problem.cells.items()},
        aggregates=problem.aggregates,
    )

    # The audit skips a hidden aggregate whose total it can see is not small (nothing to hide).
    def checked(agg: str) -> bool:
        values = [view.cells[c] for c in problem.aggregates[agg]]
        return any(math.isnan(v) for v in values) or 0 < sum(values) < 5

    expected = {u for u in attack(problem, hidden, hidden_aggs) if u in hidden or checked(u)}
    assert set(recoverable_cells(view, hidden, hidden_aggs)) == expected


# ---------------------------------------------------------------- realistic size
def _partition(rng: random.Random, units: list[str], low: int, high: int) -> list[list[str]]:
    units = units[:]
    rng.shuffle(units)
    groups = []
    while units:
        size = min(len(units), rng.randint(low, high))
        groups.append(units[:size])
        units = units[size:]
    if len(groups) > 1 and len(groups[-1]) < low:
        groups[-2] += groups.pop()
    return groups


def _random_problem(rng: random.Random, n: int, small: int) -> DisclosureProblem:
    """n municipalities, three random overlapping groupings (areas of 2-15), and Denmark."""
    munis = [f"m{i:03d}" for i in range(n)]
    cells = {m: float(rng.randint(5, 400)) for m in munis}
    chosen = rng.sample(munis, small + 3)
    for m in chosen[:small]:
        cells[m] = float(rng.randint(1, 4))
    for m in chosen[small:]:
        cells[m] = 0.0
    aggs: dict[str, tuple[str, ...]] = {"DK": tuple(munis)}
    for grouping in ("klynge", "raad", "region"):
        for k, members in enumerate(_partition(rng, munis, 2, 15)):
            aggs[f"{grouping}:{k}"] = tuple(members)
    aggs["klynge:0"] += tuple(m for m in munis[:1] if m not in aggs["klynge:0"])  # double member
    return DisclosureProblem(cells=cells, aggregates=aggs)


@pytest.mark.parametrize("seed", range(3))
def test_realistic_random_groupings_are_safe(seed: int) -> None:
    problem = _random_problem(random.Random(seed), 98, small=8)
    result = protect(problem)
    assert len(result.primary_cells) == 8
    assert attack_result(problem, result) == {}
    view = published_view(problem, result)
    assert recoverable_cells(view, result.suppressed_cells, result.suppressed_aggregates) == []


def _real_geography_problem(seed: int, rate: float) -> DisclosureProblem:
    """The project's 98 municipalities × sex with all clusters, councils, regions and Denmark."""
    geo = default_geography()
    rng = np.random.default_rng(seed)
    munis = sorted(geo.municipalities)
    population = dict(zip(munis, rng.lognormal(10.5, 0.8, len(munis)), strict=True))
    counts = rng.poisson([[population[m] * rate / 2] * 2 for m in munis]).astype(float)
    values = {m: (men, women) for m, (men, women) in zip(munis, counts.tolist(), strict=True)}
    areas = {"DK": munis} | {f"{g}:{a}": list(x.members) for (g, a), x in geo.areas.items()}
    return _sex_table(values, areas)


@pytest.mark.parametrize("seed", range(2))
def test_real_geography_by_sex_is_safe(seed: int) -> None:
    problem = _real_geography_problem(seed, rate=0.001)
    assert len(problem.cells) == 196
    result = protect(problem)
    assert result.primary_cells
    assert recoverable_cells(problem, result.suppressed_cells, result.suppressed_aggregates) == []
    view = published_view(problem, result)
    assert recoverable_cells(view, result.suppressed_cells, result.suppressed_aggregates) == []
