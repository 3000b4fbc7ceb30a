"""``newswatch web``: the analysts' read-only web page."""

from __future__ import annotations

from typing import Annotated

import typer

from newswatch.cli.options import DbOption, with_db
from newswatch.cli.render import fail


def web(
    ctx: typer.Context,
    host: Annotated[str, typer.Option("--host", help="Address to listen on (non-loopback needs NEWSWATCH_WEB_TOKEN).")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="Port to listen on.")] = 8000,
    db: DbOption = None,
) -> None:
    """Serve the read-only web page: search, articles, diffs, stories, runs, outlets.

    Example: newswatch web --port 8000, then open http://127.0.0.1:8000/
    """
    from newswatch.web.app import token_from_env
    from newswatch.web.server import BindRefused, check_bind, serve
    from storage.db import DatabaseError

    current = with_db(ctx, db)
    try:
        check_bind(host, token_from_env())
    except BindRefused as exc:
        fail(str(exc))
        raise typer.Exit(2) from None
    # Migrate (and build the search index) first with the ordinary writer: the web
    # process itself opens the database read-only.
    current.database()
    typer.echo(f"newswatch web: http://{host}:{port}/ (read-only; Ctrl-C stops)")
    try:
        serve(host, port, current.db_url, token=token_from_env(), config_path=current.config_path)
    except (BindRefused, DatabaseError) as exc:
        fail(str(exc))
        raise typer.Exit(2) from None
