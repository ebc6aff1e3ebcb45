"""gunicorn settings read from the project folder (``make serve``, the benchmarks): each worker sets Dash up
before it takes a request (``server/warmup.py``)."""


def post_worker_init(worker):  # noqa: ANN001, ANN201 (gunicorn's hook signature)
    from app import app
    from server.warmup import set_up_now

    set_up_now(app)
