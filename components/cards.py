"""A card with a heading: the block the data and admin pages are built from."""

from __future__ import annotations

from typing import Any

import dash_bootstrap_components as dbc
from dash import html


def titled_card(title: str, body: Any, **card_props: Any) -> dbc.Card:
    """A card headed by ``title`` (an h2 styled small) around ``body``; ``card_props`` go to the card."""
    return dbc.Card([dbc.CardHeader(html.H2(title, className="h6 mb-0")), dbc.CardBody(body)], **card_props)
