"""The declarative layout of one kind of file, and the header-name rules the reader uses.

A layout usually comes from YAML (``sources.yaml``), so it accepts plain data (lists, mappings,
``delimiter: tab``) and refuses anything it cannot use with a :class:`LayoutError` naming the key,
when the registry is loaded rather than when a file arrives.
"""

from __future__ import annotations

import codecs
import difflib
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field

KINDS = ("auto", "delimited", "excel")
_DELIMITER_NAMES = {"semicolon": ";", "comma": ",", "tab": "\t", "pipe": "|", "\\t": "\t"}
_LIST_KEYS = ("required_columns", "fill_down", "skip_rows_matching")


class LayoutError(ValueError):
    """A layout (usually from YAML) that cannot be used; the message names the key."""


def norm_header(header: str) -> str:
    """Header text as compared and shown: NFC, whitespace (incl. NBSP) collapsed."""
    return " ".join(unicodedata.normalize("NFC", header).replace("\ufeff", "").split())


def header_key(header: str) -> str:
    """What two spellings of a header must share to be the same column (case ignored too)."""
    return norm_header(header).casefold()


def compile_pattern(pattern: object, key: str) -> re.Pattern[str]:
    """A layout's regular expression (case-insensitive), or a LayoutError naming ``key``."""
    if not isinstance(pattern, str):
        raise LayoutError(f"{key}: expected a regular expression, got {pattern!r}")
    try:
        return re.compile(pattern, re.IGNORECASE)
    except re.error as exc:
        raise LayoutError(f"{key}: bad regular expression {pattern!r}: {exc}") from None


@dataclass(frozen=True)
class WideSpec:
    """Columns whose header fully matches ``pattern`` are melted into two columns.

    E.g. years across the top: ``WideSpec(r"\\d{4}", "År", "Antal")`` turns ``Kommune;2020;2021``
    into rows ``Kommune, År, Antal``.
    """

    pattern: str
    name_col: str
    value_col: str

    def __post_init__(self) -> None:
        compile_pattern(self.pattern, "wide.pattern")
        for key in ("name_col", "value_col"):
            if not isinstance(getattr(self, key), str) or not getattr(self, key).strip():
                raise LayoutError(f"wide.{key} must be a non-empty column name")
        if header_key(self.name_col) == header_key(self.value_col):
            raise LayoutError("wide.name_col and wide.value_col must differ")


@dataclass(frozen=True)
class FileLayout:
    """How to find the table in one kind of file. Every key has a safe default.

    - ``kind``: 'delimited', 'excel', or 'auto' (by file suffix: .xlsx/.xlsm → excel).
    - ``sheet``: sheet name, or 0-based position (as in pandas); None = the first sheet.
    - ``header_row``: 1-based line / sheet row of the header; None = the first row (within the
      first 50) that holds all ``required_columns``.
    - ``required_columns``: canonical header names the table must have.
    - ``column_aliases``: canonical name → other accepted spellings (case, spaces and NBSP
      ignored). Headers not mentioned keep their own (whitespace-normalised) text.
    - ``fill_down``: columns where a blank cell means "same as above" (pivoted exports).
    - ``wide``: ``{pattern, name_col, value_col}``: melt the columns whose header fully matches
      ``pattern`` (e.g. years) into rows, see :class:`WideSpec`.
    - ``encoding`` / ``delimiter``: None = detect / sniff (``delimiter`` may be written ``tab``).
    - ``decimal``: the decimal separator; Excel numbers are written out with it.
    - ``skip_rows_matching``: regexes (case-insensitive, ``re.search``) tried on the first
      non-empty cell of each data row; matching rows (totals, footnotes) are removed and
      reported in ``ReadResult.skipped_rows``. One-cell rows below the table that read like
      notes ("Kilde: …", or set off by a blank row) are removed and reported the same way.
    """

    kind: str = "auto"
    sheet: str | int | None = None
    header_row: int | None = None
    required_columns: tuple[str, ...] = ()
    column_aliases: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    fill_down: tuple[str, ...] = ()
    wide: WideSpec | None = None
    encoding: str | None = None
    delimiter: str | None = None
    decimal: str = ","
    skip_rows_matching: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        self._accept_plain_data()
        self._check_reading_options()
        self._check_columns()

    def _accept_plain_data(self) -> None:
        """Lists, mappings and delimiter names (as YAML gives them) → the declared types.

        Assigned with ``object.__setattr__`` so the layout stays frozen (and hashable).
        """
        for key in _LIST_KEYS:
            value = getattr(self, key)
            if not isinstance(value, tuple):
                object.__setattr__(self, key, _as_tuple(value, key))
        aliases = self.column_aliases if self.column_aliases is not None else {}
        if not isinstance(aliases, Mapping):
            raise LayoutError("column_aliases must map a column name to a list of spellings")
        object.__setattr__(
            self,
            "column_aliases",
            {
                str(k): v if isinstance(v, tuple) else _as_tuple(v, f"column_aliases[{k!r}]")
                for k, v in aliases.items()
            },
        )
        if isinstance(self.wide, Mapping):
            object.__setattr__(self, "wide", _wide_from_dict(self.wide))
        elif self.wide is not None and not isinstance(self.wide, WideSpec):
            raise LayoutError("wide must be a mapping with pattern, name_col and value_col")
        if isinstance(self.delimiter, str):
            delimiter = _DELIMITER_NAMES.get(self.delimiter.lower(), self.delimiter)
            object.__setattr__(self, "delimiter", delimiter)

    def _check_reading_options(self) -> None:
        """kind, sheet, header_row, decimal, delimiter and encoding: usable values only."""
        if self.kind not in KINDS:
            raise LayoutError(f"kind must be one of {', '.join(KINDS)}, not {self.kind!r}")
        if self.sheet is not None and (
            isinstance(self.sheet, bool) or not isinstance(self.sheet, str | int)
        ):
            raise LayoutError(f"sheet must be a name or a 0-based position, not {self.sheet!r}")
        if isinstance(self.sheet, int) and self.sheet < 0:
            raise LayoutError(f"sheet position must be 0 or more, not {self.sheet}")
        if self.header_row is not None and (
            isinstance(self.header_row, bool)
            or not isinstance(self.header_row, int)
            or self.header_row < 1
        ):
            raise LayoutError(f"header_row must be a 1-based row number, not {self.header_row!r}")
        if self.decimal not in {",", "."}:
            raise LayoutError(f"decimal must be ',' or '.', not {self.decimal!r}")
        if self.delimiter is not None and (
            len(self.delimiter) != 1 or self.delimiter in '"\r\n' or self.delimiter.isalnum()
        ):
            raise LayoutError(
                f"delimiter must be one character such as ';', not {self.delimiter!r}"
            )
        if self.encoding is not None:
            try:
                codecs.lookup(self.encoding)
            except LookupError:
                raise LayoutError(f"unknown encoding {self.encoding!r}") from None

    def _check_columns(self) -> None:
        """Column lists, skip patterns and aliases: non-empty text, valid regexes, no clashes."""
        for pattern in self.skip_rows_matching:
            compile_pattern(pattern, "skip_rows_matching")
        for key in _LIST_KEYS:
            if not all(isinstance(v, str) and v for v in getattr(self, key)):
                raise LayoutError(f"{key} must be a list of non-empty strings")
        owner: dict[str, str] = {}
        for canonical, spellings in self.column_aliases.items():
            if not all(isinstance(s, str) for s in spellings):
                raise LayoutError(f"column_aliases[{canonical!r}] must be a list of strings")
            for spelling in (canonical, *spellings):
                other = owner.setdefault(header_key(spelling), canonical)
                if other != canonical:
                    raise LayoutError(
                        f"column_aliases: {spelling!r} is given for both {other!r} and "
                        f"{canonical!r}"
                    )
        if self.wide is not None:
            produced = {header_key(self.wide.name_col), header_key(self.wide.value_col)}
            clash = [c for c in self.fill_down if header_key(c) in produced]
            if clash:
                raise LayoutError(f"fill_down column {clash[0]!r} is produced by wide")

    def __hash__(self) -> int:  # column_aliases is a dict; hash its items instead
        aliases = tuple(sorted(self.column_aliases.items()))
        return hash(tuple(aliases if f == "column_aliases" else getattr(self, f) for f in _FIELDS))

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> FileLayout:
        """Build a layout from plain data (YAML), with an error naming any bad key."""
        if not isinstance(data, Mapping):
            raise LayoutError(f"a layout must be a mapping, not {type(data).__name__}")
        known = list(_FIELDS)
        unknown = [k for k in data if k not in known]
        if unknown:
            hints = [
                f"{k!r}" + (f" (did you mean {close[0]!r}?)" if close else "")
                for k in unknown
                for close in [difflib.get_close_matches(str(k), known, n=1)]
            ]
            raise LayoutError(
                f"unknown layout key(s) {', '.join(hints)}; known keys: {', '.join(known)}"
            )
        try:
            return cls(**data)  # type: ignore[arg-type]
        except TypeError as exc:  # e.g. an encoding that is not text
            raise LayoutError(f"bad layout: {exc}") from None


_FIELDS = tuple(FileLayout.__dataclass_fields__)


def _wide_from_dict(wide: Mapping[str, object]) -> WideSpec:
    keys = list(WideSpec.__dataclass_fields__)
    if set(wide) != set(keys):
        raise LayoutError(
            f"wide needs exactly the keys {', '.join(keys)}; got {', '.join(map(str, wide))}"
        )
    return WideSpec(**{k: wide[k] for k in keys})  # type: ignore[arg-type]


def _as_tuple(value: object, key: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list | tuple):
        return tuple(str(v) for v in value)
    raise LayoutError(f"{key} must be a list of strings, not {value!r}")
