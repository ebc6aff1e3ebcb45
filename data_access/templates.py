"""Upload templates and the data dictionary, generated from the contract declaration."""

from __future__ import annotations

import csv
import io

from data_access.contract import KINDS, Column, Kind


def _rules(column: Column) -> str:
    parts = []
    if column.vocabulary:
        listed = ", ".join(column.vocabulary)
        parts.append(f"one of: {listed}" + (" (others accepted with a warning)" if column.open_vocabulary else ""))
    if column.minimum is not None:
        parts.append(f">= {column.minimum:g}")
    if column.maximum is not None:
        parts.append(f"<= {column.maximum:g}")
    if column.references:
        parts.append(f"must exist in {column.references}" + (" (or ALL)" if column.allow_all else ""))
    if column.pseudonymise:
        parts.append("pseudonymised on upload")
    if column.type == "date":
        parts.append("YYYY-MM-DD (dd/mm/yyyy or mm/dd/yyyy if unambiguous in the column)")
    return "; ".join(parts)


def dictionary_rows(kind: Kind) -> list[dict[str, str]]:
    """One row per column: name, type, required, key, description, rules, example."""
    return [
        {
            "column": column.name,
            "type": column.type,
            "required": "yes" if column.required else "no",
            "natural_key": "yes" if column.key else "no",
            "description": column.description,
            "rules": _rules(column),
            "example": column.example,
        }
        for column in kind.columns
    ]


def template_csv(kind_name: str) -> bytes:
    """The header and one example row, as UTF-8 CSV."""
    kind = KINDS[kind_name]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(kind.column_names)
    writer.writerow([c.example for c in kind.columns])
    return buffer.getvalue().encode("utf-8")


def template_xlsx(kind_name: str) -> bytes:
    """A workbook: the kind's sheet (header + example row) and a data dictionary sheet."""
    from openpyxl import Workbook

    kind = KINDS[kind_name]
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = kind.name
    sheet.append(list(kind.column_names))
    sheet.append([c.example for c in kind.columns])
    dictionary = workbook.create_sheet("data dictionary")
    rows = dictionary_rows(kind)
    dictionary.append(list(rows[0]))
    for row in rows:
        dictionary.append(list(row.values()))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def contract_markdown() -> str:
    """The README's contract section."""
    lines = []
    for kind in KINDS.values():
        lines += [
            f"#### {kind.name}",
            "",
            kind.description,
            "",
            "| column | type | required | key | rules |",
            "|---|---|---|---|---|",
        ]
        for row in dictionary_rows(kind):
            lines.append(
                f"| `{row['column']}` | {row['type']} | {row['required']} | {row['natural_key']} | "
                f"{row['description']}{'; ' + row['rules'] if row['rules'] else ''} |"
            )
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"
