"""Serve the web page with uvicorn: loopback only, unless a token guards it."""

from __future__ import annotations

import ipaddress
from pathlib import Path

from newswatch.web.app import TOKEN_ENV, create_app
from storage.db import open_readonly


class BindRefused(Exception):
    """Binding to a non-loopback address without a token; the message says what to do."""


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_bind(host: str, token: str | None) -> None:
    if not is_loopback(host) and not token:
        raise BindRefused(
            f"refusing to serve on {host}: only 127.0.0.1 is served without a token; "
            f"set {TOKEN_ENV} to serve on another address (every request must then carry it)"
        )


def serve(host: str, port: int, db_url: str, *, token: str | None, config_path: Path | None = None) -> None:
    """Run until interrupted.  Raises BindRefused or storage.db.DatabaseError before listening."""
    import uvicorn

    check_bind(host, token)
    db = open_readonly(db_url)
    app = create_app(db, token=token, config_path=config_path)
    try:
        uvicorn.run(app, host=host, port=port, log_level="warning", server_header=False, proxy_headers=False)
    finally:
        db.dispose()
