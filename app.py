"""The dashboard: a thin Dash app over the pages in ``pages/``; ``server`` carries the CLI."""

import dash
from dash import Dash

import settings
from auth import current_user, register_auth
from cli import prepare_database, register_commands
from components.shell import APP_TITLE, create_appshell
from delivery import register_compression, register_plotly_bundle, with_early_scripts, without_polyfill
from exports import register_exports
from first_request import prepare_first_request
from initial_page import page_container
from pages._prefetch import register_prefetch
from uploads import register_uploads

app = Dash(
    __name__,
    use_pages=True,
    title=APP_TITLE,
    serve_locally=True,  # Bootstrap 5.3 is served from assets/, so the app works with no internet
)


def _layout() -> object:
    user = current_user()
    container = page_container(app)
    return create_appshell(dash.page_registry.values(), user and user.username, user and user.role, container)


app.layout = _layout
app.index_string = with_early_scripts(app.index_string)
without_polyfill(app)
server = app.server
register_commands(server)
register_exports(server)
register_uploads(server)
prepare_first_request(app)
register_auth(app)
register_compression(server)
register_plotly_bundle(server)
register_prefetch(server)

if __name__ == "__main__":
    prepare_database(with_demo=True)
    app.run(host=settings.get("HOST"), port=settings.get_int("PORT"), debug=False)  # never debug: it runs code
