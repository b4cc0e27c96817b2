"""The funnel: every municipality against its denominator, with 95 % and 99.8 % control limits
around Denmark, the area's members in black.

Only for rates and proportions (``METHOD_RULES[method].statistic``): age-standardised rates,
survey estimates and whole-population figures have no binomial or Poisson denominator, so limits
would be wrong, and the panel says so instead.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from datapakke.mart.catalogue import METHOD_RULES
from datapakke.presentation import LEVEL_STYLES, ROLE_LABELS_DA, format_da
from datapakke.publish.charts.axis import (
    axis_title,
    label_room,
    log_ticks,
    nice_range,
    tick_labels,
    ticks,
    value_axis,
)
from datapakke.publish.charts.canvas import Box, Canvas, Plot, spread
from datapakke.publish.charts.legend import Key
from datapakke.publish.charts.panel import PanelSpec
from datapakke.publish.charts.rows import indicator_row
from datapakke.publish.charts.style import (
    LIMIT_STYLES,
    LINE_IN,
    MUTED,
    OTHER_POINT,
    SUPPRESSED_CHART_NOTE_DA,
)

if TYPE_CHECKING:
    from datapakke.publish.pack_data import AreaPackData

MAX_FUNNEL_NAMES = 6  # more members than this: only those outside the 95 % limits are named
_KEYS = (  # row by row: markers in the first column, limits in the second
    Key.of("Kommune i området", "marker", marker="o", markersize=5.2, color="#000000"),
    Key.of("95 %-grænse", "line", **LIMIT_STYLES["95"]),
    Key.of("Øvrige kommuner", "marker", marker="o", markersize=3.8, color=OTHER_POINT),
    Key.of("99,8 %-grænse", "line", **LIMIT_STYLES["998"]),
)


def funnel_data(pack: AreaPackData, indicator_id: str) -> dict[str, Any] | None:
    """The funnel's numbers: points, target, overdispersion and limit curves (None: no funnel).

    The target is Denmark pooled over published municipalities, Σnumerator/Σdenominator ×
    multiplier, computed as the denominator-weighted mean of the values (the same number, since
    value = numerator/denominator × multiplier, and it cannot disagree with the points drawn).
    """
    from datapakke.mart import stats

    ind = indicator_row(pack, indicator_id)
    kind = METHOD_RULES[str(ind["method"])].statistic
    if kind is None:
        return None
    f = pack.funnel[pack.funnel["indicator_id"] == indicator_id]
    value = pd.to_numeric(f["value"], errors="coerce").to_numpy(float)
    n = pd.to_numeric(f["denominator"], errors="coerce").to_numpy(float)
    suppressed = f["is_suppressed"].fillna(False).astype(bool).to_numpy()
    ok = ~suppressed & np.isfinite(value) & np.isfinite(n) & (n > 0)
    multiplier = float(ind["multiplier"])
    data: dict[str, Any] = {
        "points": pd.DataFrame(
            {
                "area_name": f["area_name"].astype(str).to_numpy()[ok],
                "denominator": n[ok],
                "value": value[ok],
                "is_member": f["is_member"].fillna(False).astype(bool).to_numpy()[ok],
            }
        ),
        "period": str(f["period"].max()) if not f.empty else "",
        "kind": kind,
        "target": math.nan,
        "tau2": 0.0,
        "overdispersed": False,
        "grid": np.array([]),
        "limits": {},
        "n_suppressed": int(suppressed.sum()),
    }
    if ok.sum() < 3:
        return data
    target = float(np.sum(value[ok] * n[ok]) / np.sum(n[ok]))
    od = stats.overdispersion(value[ok], n[ok], target, kind, multiplier=multiplier)
    overdispersed = bool(od.get("overdispersed", False))
    tau2 = float(od.get("tau2", 0.0)) if overdispersed else 0.0
    grid = np.geomspace(n[ok].min() * 0.7, n[ok].max() * 1.4, 60)
    data.update(
        target=target,
        tau2=tau2,
        overdispersed=overdispersed,
        grid=grid,
        limits={
            label: stats.funnel_limits(target, grid, kind, z, multiplier=multiplier, tau2=tau2)
            for label, z in (("95", stats.Z95), ("998", stats.Z998))
        },
    )
    return data


@dataclass(frozen=True)
class _Funnel:
    """The funnel's numbers (:func:`funnel_data`) and the panel's scales."""

    data: dict[str, Any]
    ylim: tuple[float, float]
    yticks: np.ndarray
    ylabels: list[str]
    named: pd.DataFrame  # the members whose names are written beside their points

    @property
    def xlim(self) -> tuple[float, float]:
        return float(self.data["grid"][0]), float(self.data["grid"][-1])

    @property
    def members(self) -> pd.DataFrame:
        points = self.data["points"]
        return points[points["is_member"]]


def funnel_panel(pack: AreaPackData, ind: pd.Series) -> PanelSpec:
    """The funnel, or a panel saying why there is none (method, or too few municipalities)."""
    data = funnel_data(pack, str(ind["indicator_id"]))
    if data is None:
        return _message_panel(METHOD_RULES[str(ind["method"])].no_funnel_da)
    if not np.isfinite(data["target"]):
        return _message_panel("For få kommuner med data til et tragtdiagram")
    ylim = nice_range([data["points"]["value"].to_numpy(float), [data["target"]]])
    yticks = ticks(*ylim, n=5)
    funnel = _Funnel(data, ylim, yticks, tick_labels(yticks), _named_members(data))
    subtitle = (
        "Grænser udvidet for overspredning"
        if data["overdispersed"]
        else "Grænser om værdien for hele landet"
    )
    return PanelSpec(
        "funnel",
        label_room(funnel.ylabels),
        0.15,
        functools.partial(_draw, funnel),
        keys=list(_KEYS),
        notes=_notes(funnel),
        levels=[Key.of(ROLE_LABELS_DA["country"], "line", **LEVEL_STYLES["country"])],
        title=f"Tragtdiagram, alle kommuner {data['period']}".strip(),
        subtitle=subtitle,
    )


def _message_panel(message: str) -> PanelSpec:
    """A funnel panel that says why there is no funnel."""

    def draw(canvas: Canvas, box: Box) -> None:
        canvas.message(box, message, gid="funnel-message")

    return PanelSpec("funnel", 0.1, 0.1, draw, title="Tragtdiagram")


def _named_members(data: dict[str, Any]) -> pd.DataFrame:
    """Every member when few; otherwise only those outside the 95 % limits."""
    points = data["points"]
    members = points[points["is_member"]]
    if len(members) <= MAX_FUNNEL_NAMES:
        return members
    low, high = (
        np.interp(np.log(members["denominator"]), np.log(data["grid"]), curve)
        for curve in data["limits"]["95"]
    )
    return members[(members["value"] < low) | (members["value"] > high)]


def _draw(funnel: _Funnel, canvas: Canvas, box: Box) -> None:
    data, xlim = funnel.data, funnel.xlim
    plot = Plot(canvas, box, xlim, funnel.ylim, xlog=True, gid="funnel")
    value_axis(canvas, plot, "y", funnel.yticks, funnel.ylabels)
    xticks = log_ticks(*xlim)
    value_axis(canvas, plot, "x", xticks, [format_da(t, 0) for t in xticks], grid=False)
    axis_title(canvas, plot, "Antal (nævner), logaritmisk akse", gid="funnel-xlabel")
    for label in ("998", "95"):
        low, high = data["limits"][label]
        plot.line(data["grid"], low, f"funnel-limit-{label}-low", zorder=2, **LIMIT_STYLES[label])
        plot.line(data["grid"], high, f"funnel-limit-{label}-high", zorder=2, **LIMIT_STYLES[label])
    target = data["target"]
    plot.line(xlim, [target, target], "funnel-target", zorder=3, **LEVEL_STYLES["country"])
    points = data["points"]
    others, members = points[~points["is_member"]], funnel.members
    plot.line(
        others["denominator"],
        others["value"],
        "funnel-others",
        linestyle="none",
        marker="o",
        markersize=3.3,
        markerfacecolor=OTHER_POINT,
        markeredgewidth=0,
        zorder=4,
    )
    plot.line(
        members["denominator"],
        members["value"],
        "funnel-members",
        linestyle="none",
        marker="o",
        markersize=5.2,
        markerfacecolor="#000000",
        markeredgecolor="white",
        markeredgewidth=0.6,
        zorder=6,
    )
    _name_points(canvas, plot, funnel.named)


def _name_points(canvas: Canvas, plot: Plot, points: pd.DataFrame) -> None:
    """Names beside points (left of them in the right third), pushed apart vertically, with a
    thin leader when a name had to move."""
    if points.empty:
        return
    x, y = plot.x_in(points["denominator"]), plot.y_in(points["value"])
    on_left = x > plot.left + 0.62 * (plot.right - plot.left)
    leaders = []
    for side in (False, True):
        idx = np.flatnonzero(on_left == side)
        if idx.size == 0:
            continue
        placed = spread(y[idx], LINE_IN * 0.95, plot.bottom + 0.05, plot.top - 0.05)
        for i, py in zip(idx, placed, strict=True):
            tx = x[i] + (-0.09 if side else 0.09)
            canvas.text(
                tx,
                py,
                points["area_name"].iloc[i],
                ha="right" if side else "left",
                zorder=7,
                gid="member-label",
            )
            if abs(py - y[i]) > LINE_IN * 0.3:
                leaders.append([(x[i], y[i]), (tx, py)])
    canvas.segments(leaders, colors=MUTED, linewidths=0.5, zorder=5)


def _notes(funnel: _Funnel) -> list[str]:
    notes = []
    if funnel.data["n_suppressed"]:
        notes.append(SUPPRESSED_CHART_NOTE_DA)
    if len(funnel.named) < len(funnel.members):
        notes.append("Tragtdiagram: kun kommuner uden for 95 %-grænserne er navngivet")
    if funnel.data["overdispersed"]:
        notes.append("Tragtdiagrammets grænser er udvidet for overspredning (τ²)")
    return notes
