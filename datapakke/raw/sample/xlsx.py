"""A minimal SpreadsheetML (.xlsx) writer whose bytes depend only on the content.

openpyxl needs ~20 s for the 1.2 million cells of kronisk.xlsx and stamps the clock into the
file; this takes about a second and every byte (document times, zip entry times, entry order and
compression) is fixed, so the sample stays byte-identical on rerun. openpyxl and pandas read it.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from xml.sax.saxutils import escape

from datapakke.raw.sample import GENERATOR, NOTICE_DA

#: Document times written into the Excel files and their zip entries (never "now").
FIXED_TIME = datetime(2026, 1, 1, 0, 0, 0)

_MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
_XML_HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_CT = "application/vnd.openxmlformats-officedocument.spreadsheetml"
_STYLES = (
    f'<styleSheet xmlns="{_MAIN_NS}">'
    '<fonts count="2"><font><sz val="11"/><name val="Calibri"/></font>'
    '<font><b/><sz val="11"/><name val="Calibri"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="2"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/></cellXfs>'
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    "</styleSheet>"
)
_CONTENT_TYPES = (
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" '
    'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
)
_PACKAGE_RELS = (
    f'<Relationships xmlns="{_PKG_REL_NS}">'
    f'<Relationship Id="rId1" Type="{_REL_NS}/officeDocument" Target="xl/workbook.xml"/>'
    '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/'
    'relationships/metadata/core-properties" Target="docProps/core.xml"/>'
    f'<Relationship Id="rId3" Type="{_REL_NS}/extended-properties" '
    'Target="docProps/app.xml"/></Relationships>'
)
_APP_PROPERTIES = (
    '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/'
    f'extended-properties"><Application>{GENERATOR}</Application></Properties>'
)


@dataclass
class Sheet:
    """One worksheet: title rows (bold), a header row (bold), data rows and notes below."""

    name: str
    titles: list[str]
    header: list[str]
    rows: list[list[object]]
    notes: list[str] = field(default_factory=list)
    widths: dict[str, float] = field(default_factory=dict)

    def all_rows(self) -> list[tuple[list[object], bool]]:
        """(cells, bold) in sheet order; a blank row separates the table from its notes."""
        rows = [([t] if t else [], True) for t in self.titles] + [(self.header, True)]
        rows += [(r, False) for r in self.rows]
        if self.notes:
            rows += [([], False)] + [([n], False) for n in self.notes]
        return rows


class _SharedStrings:
    """The workbook's shared-string table: each text once, in first-use order, and its uses."""

    def __init__(self) -> None:
        self.index: dict[str, int] = {}
        self.uses = 0

    def add(self, text: str) -> int:
        self.uses += 1
        return self.index.setdefault(text, len(self.index))

    def xml(self) -> str:
        return (
            f'<sst xmlns="{_MAIN_NS}" count="{self.uses}" uniqueCount="{len(self.index)}">'
            + "".join(f'<si><t xml:space="preserve">{escape(t)}</t></si>' for t in self.index)
            + "</sst>"
        )


def _column_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _sheet_xml(sheet: Sheet, strings: _SharedStrings) -> str:
    """One worksheet's XML; its text goes to the shared-string table."""
    rows = sheet.all_rows()
    width = max(len(cells) for cells, _ in rows)
    letters = [_column_letter(i) for i in range(width)]
    out = [
        f'{_XML_HEAD}<worksheet xmlns="{_MAIN_NS}"><dimension ref="A1:{letters[-1]}{len(rows)}"/>'
    ]
    if sheet.widths:
        out.append("<cols>")
        for column, size in sorted(sheet.widths.items(), key=lambda kv: letters.index(kv[0])):
            n = letters.index(column) + 1
            out.append(f'<col min="{n}" max="{n}" width="{size}" customWidth="1"/>')
        out.append("</cols>")
    out.append("<sheetData>")
    for r, (cells, bold) in enumerate(rows, start=1):
        style = ' s="1"' if bold else ""
        out.append(f'<row r="{r}">')
        for letter, value in zip(letters, cells, strict=False):
            if value is None or value == "":
                continue
            if isinstance(value, str):
                out.append(f'<c r="{letter}{r}"{style} t="s"><v>{strings.add(value)}</v></c>')
            else:
                out.append(f'<c r="{letter}{r}"{style}><v>{value}</v></c>')
        out.append("</row>")
    out.append("</sheetData></worksheet>")
    return "".join(out)


def _content_types(worksheets: Sequence[str]) -> str:
    overrides = [("/xl/workbook.xml", f"{_CT}.sheet.main+xml")]
    overrides += [(f"/{name}", f"{_CT}.worksheet+xml") for name in worksheets]
    overrides += [
        ("/xl/styles.xml", f"{_CT}.styles+xml"),
        ("/xl/sharedStrings.xml", f"{_CT}.sharedStrings+xml"),
        ("/docProps/core.xml", "application/vnd.openxmlformats-package.core-properties+xml"),
        (
            "/docProps/app.xml",
            "application/vnd.openxmlformats-officedocument.extended-properties+xml",
        ),
    ]
    return (
        _CONTENT_TYPES
        + "".join(f'<Override PartName="{p}" ContentType="{t}"/>' for p, t in overrides)
        + "</Types>"
    )


def _core_properties(title: str) -> str:
    stamp = FIXED_TIME.strftime("%Y-%m-%dT%H:%M:%SZ")
    return (
        '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/'
        'core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/" '
        'xmlns:dcterms="http://purl.org/dc/terms/" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        f"<dc:title>{escape(title)}</dc:title><dc:description>{escape(NOTICE_DA)}</dc:description>"
        f"<dc:creator>{GENERATOR}</dc:creator><cp:lastModifiedBy>{GENERATOR}</cp:lastModifiedBy>"
        f'<dcterms:created xsi:type="dcterms:W3CDTF">{stamp}</dcterms:created>'
        f'<dcterms:modified xsi:type="dcterms:W3CDTF">{stamp}</dcterms:modified>'
        "</cp:coreProperties>"
    )


def _workbook(sheets: Sequence[Sheet]) -> str:
    return (
        f'<workbook xmlns="{_MAIN_NS}" xmlns:r="{_REL_NS}"><sheets>'
        + "".join(
            f'<sheet name="{escape(s.name)}" sheetId="{i}" r:id="rId{i}"/>'
            for i, s in enumerate(sheets, start=1)
        )
        + "</sheets></workbook>"
    )


def _workbook_rels(n_sheets: int) -> str:
    rels = [(f"rId{i}", "worksheet", f"worksheets/sheet{i}.xml") for i in range(1, n_sheets + 1)]
    rels += [
        (f"rId{n_sheets + 1}", "styles", "styles.xml"),
        (f"rId{n_sheets + 2}", "sharedStrings", "sharedStrings.xml"),
    ]
    return (
        f'<Relationships xmlns="{_PKG_REL_NS}">'
        + "".join(
            f'<Relationship Id="{rid}" Type="{_REL_NS}/{kind}" Target="{target}"/>'
            for rid, kind, target in rels
        )
        + "</Relationships>"
    )


def xlsx_bytes(sheets: Sequence[Sheet], title: str) -> bytes:
    """An .xlsx whose bytes depend only on its content (no clock, fixed zip metadata)."""
    strings = _SharedStrings()
    worksheets = {  # written first: they fill the shared-string table
        f"xl/worksheets/sheet{i}.xml": _sheet_xml(sheet, strings)
        for i, sheet in enumerate(sheets, start=1)
    }
    entries = {
        "[Content_Types].xml": _content_types(list(worksheets)),
        "_rels/.rels": _PACKAGE_RELS,
        "docProps/app.xml": _APP_PROPERTIES,
        "docProps/core.xml": _core_properties(title),
        "xl/workbook.xml": _workbook(sheets),
        "xl/_rels/workbook.xml.rels": _workbook_rels(len(sheets)),
        "xl/styles.xml": _STYLES,
        "xl/sharedStrings.xml": strings.xml(),
        **worksheets,
    }
    return zip_bytes(
        {
            name: (text if text.startswith("<?xml") else _XML_HEAD + text).encode("utf-8")
            for name, text in entries.items()
        }
    )


def zip_bytes(entries: dict[str, bytes]) -> bytes:
    """A zip with entries in the given order, fixed times and attributes, deflated at level 6."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, payload in entries.items():
            info = zipfile.ZipInfo(name, date_time=FIXED_TIME.timetuple()[:6])
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3
            info.external_attr = 0o644 << 16
            archive.writestr(info, payload, compresslevel=6)
    return out.getvalue()
