"""The dashboard: a thin Dash app over the pages in ``pages/``; ``server`` carries the routes and the CLI."""

import dash
from dash import Dash

import settings
from cli import prepare_database, register_commands
from components.shell import APP_TITLE, create_appshell
from server.auth import current_user, register_auth
from server.delivery import register_compression, register_plotly_bundle, with_early_scripts
from server.exports import register_exports
from server.uploads import register_uploads
from server.warmup import set_up_now

app = Dash(
    __name__,
    use_pages=True,
    title=APP_TITLE,
    serve_locally=True,  # Bootstrap 5.3 is served from assets/, so the app works with no internet
)


def _layout() -> object:
    user = current_user()
    return create_appshell(dash.page_registry.values(), user and user.username, user and user.role)


app.layout = _layout
app.index_string = with_early_scripts(app.index_string)
server = app.server
register_commands(server)
register_exports(server)
register_uploads(server)
register_auth(app)
register_compression(server)
register_plotly_bundle(server)

if __name__ == "__main__":
    prepare_database(with_demo=True)
    set_up_now(app)
    app.run(host=settings.get("HOST"), port=settings.get_int("PORT"), debug=False)  # never debug: it runs code
