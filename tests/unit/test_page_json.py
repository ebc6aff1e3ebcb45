"""A rendered page is serialised once, by orjson: the JSON is what Dash's own encoder writes."""

from __future__ import annotations

import json

import dash_bootstrap_components as dbc
import numpy as np
import orjson
import pandas as pd
from dash import dcc, html
from plotly.io.json import to_json_plotly

from components.fast_build import component_json
from pages._context import as_json

TREE = html.Div(
    [
        html.H1("Uptake", className="h3", title=None),
        html.Div("note", **{"data-kpi": "learners", "aria-label": "a note"}),
        dbc.Card(dbc.CardBody([dbc.Badge("on track", color="success")]), className="h-100"),
        dcc.Graph(
            id={"type": "click-graph", "action": "platform", "view": "uptake_by_platform"},
            figure={"data": [{"type": "bar", "x": np.array(["a", "b"], dtype=object), "y": np.array([1.5, np.nan])}]},
            config={"displaylogo": False},
        ),
        dcc.Dropdown(id={"type": "filter", "name": "gender"}, options=[{"value": "female", "label": "Female"}]),
        html.Span(pd.NA),
    ],
    id="page",
)


def _components(node):  # type: ignore[no-untyped-def]
    yield node
    children = getattr(node, "children", None)
    for child in children if isinstance(children, list) else [children]:
        if hasattr(child, "to_plotly_json"):
            yield from _components(child)


def test_each_component_gives_the_dict_dash_gives():
    for component in _components(TREE):
        assert component_json(component) == component.to_plotly_json(), type(component).__name__


def test_a_tree_serialises_as_plotlys_encoder_does():
    assert orjson.loads(as_json(TREE)) == json.loads(to_json_plotly(TREE))
