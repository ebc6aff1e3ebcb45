"""Templates generated from the contract are accepted by the ingest pipeline's reader."""

from __future__ import annotations

import io

import openpyxl
import pytest

from data_access.contract import KINDS
from data_access.ingest.read import open_table, opener_for
from data_access.templates import template_csv, template_xlsx


@pytest.mark.parametrize("kind", list(KINDS))
def test_templates_carry_the_contract_header_and_an_example(kind):
    table = open_table(opener_for(template_csv(kind)), f"{kind}.csv", kind)
    assert table.header == list(KINDS[kind].column_names)
    assert len(next(table.chunks())) == 1
    workbook = openpyxl.load_workbook(io.BytesIO(template_xlsx(kind)))
    assert workbook.sheetnames == [kind, "data dictionary"]
    assert [c.value for c in workbook[kind][1]] == list(KINDS[kind].column_names)
    assert workbook["data dictionary"].max_row == len(KINDS[kind].columns) + 1
