"""components.fast_build.build gives the component Dash's constructor gives, and refuses what it refuses."""

from __future__ import annotations

import dash_bootstrap_components as dbc
import pytest
from dash import dcc, html

from components.fast_build import build

CALLS = [
    (html.Div, ("text",), {"className": "small"}),
    (html.Div, (), {"id": {"type": "table-body", "view": "v", "card": "c"}}),
    (html.Div, ([html.Span("a"), "b"],), {"data-kpi": "learners", "aria-label": "x", "title": None}),
    (html.A, ("CSV",), {"href": "/export/v.csv?gender=female", "download": "v.csv", "className": "me-2"}),
    (html.Label, ("Entity",), {"htmlFor": "filter-entity"}),
    (dbc.Card, ([dbc.CardBody("x")],), {"className": "h-100", "id": "card"}),
    (dbc.Col, ("x",), {"xs": 6, "md": 4, "lg": True, "className": "mb-2"}),
    (dbc.Badge, ("on track",), {"color": "success"}),
    (dbc.Tab, ("x",), {"label": "Chart", "tab_id": "chart"}),
    (dcc.Dropdown, (), {"id": {"type": "filter", "name": "gender"}, "options": [], "value": None, "clearable": True}),
    (dcc.Graph, (), {"id": "g", "figure": {"data": []}, "config": {"displaylogo": False}}),
]


@pytest.mark.parametrize(("kind", "args", "props"), CALLS)
def test_the_same_component_as_dashs_constructor(kind, args, props):
    for _ in range(2):  # the first of a kind is built by Dash, the next ones by copying
        built = build(kind, *args, **props)
        assert type(built) is kind
        assert vars(built) == vars(kind(*args, **props))
        assert built.to_plotly_json() == kind(*args, **props).to_plotly_json()


@pytest.mark.parametrize(
    ("kind", "args", "props", "error"),
    [
        (html.Div, (), {"classname": "typo"}, "unexpected keyword argument: `classname`"),
        (html.Div, (), {"title": html.Span("x")}, "a component was given for `title`"),
        (html.Div, (), {"id": 5}, "`id` prop must be a string or dict"),
        (dcc.Dropdown, (), {"children": "x"}, "takes no children"),
    ],
)
def test_what_dash_refuses_it_refuses(kind, args, props, error):
    build(kind)  # the kind is known already: these are the checks of the copies
    with pytest.raises(TypeError, match=error):
        build(kind, *args, **props)
    with pytest.raises(TypeError):
        kind(*args, **props)
