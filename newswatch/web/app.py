"""The application: read-only database, security headers, optional token, HTML or JSON per request.

Every page is a function that builds a pydantic model; the HTML route renders it with a
Jinja2 template (``.html``, so autoescaping is on), the ``.json`` route returns it and is
documented in the OpenAPI schema.  ``Accept: application/json`` on an HTML route returns
the JSON too.  There is no route that writes, and no JavaScript at all: the CSP forbids
every script.
"""

from __future__ import annotations

import hmac
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode, urlsplit

from fastapi import FastAPI, Request
from fastapi import Path as PathParam
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import (
    HTMLResponse,
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
)
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from pydantic import BaseModel
from sqlalchemy.orm import Session
from starlette.exceptions import HTTPException

from newswatch.terminal import visible_reordering
from storage.db import Database

HERE = Path(__file__).resolve().parent
#: Ids are 32-bit integers on PostgreSQL: a larger number is refused before it reaches SQL.
MAX_ID = 2**31 - 1
RowId = Annotated[int, PathParam(ge=0, le=MAX_ID)]
TOKEN_ENV = "NEWSWATCH_WEB_TOKEN"
TOKEN_COOKIE = "newswatch_token"

#: No script of any origin, styles only from this server, no framing, forms only to here.
CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
    "base-uri 'none'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}


def safe_href(url: object) -> str | None:
    """The URL if it is http(s) with a host (so it may be a link), else None (shown as text)."""
    if not isinstance(url, str):
        return None
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    return url.strip()


def _templates() -> Jinja2Templates:
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    # Starlette autoescapes .html templates only; every template here is .html, and this
    # makes it unconditional in case one is ever named otherwise.
    templates.env.autoescape = True
    templates.env.finalize = _shown
    templates.env.filters["safe_href"] = safe_href
    templates.env.filters["when"] = lambda d: "" if d is None else d.strftime("%Y-%m-%d %H:%M UTC")
    templates.env.globals["query_url"] = query_url
    return templates


def _shown(value: Any) -> Any:
    """Every value a template prints: scraped text cannot reorder the page with bidi controls.

    Markup (``__html__``: a search snippet with its <mark>s) holds scraped text too; the
    characters replaced are never HTML syntax, so it stays markup of the same type.
    """
    if isinstance(value, str) and hasattr(value, "__html__"):
        return type(value)(visible_reordering(str(value)))
    if isinstance(value, str):
        return visible_reordering(value)
    return value


def query_url(path: str, params: dict[str, Any], **changes: Any) -> str:
    merged = {**params, **changes}
    kept = {k: v for k, v in merged.items() if v not in (None, "")}
    return path + ("?" + urlencode(kept) if kept else "")


def wants_json(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    return "application/json" in accept and "text/html" not in accept


def create_app(db: Database, *, token: str | None = None, config_path: Path | None = None) -> FastAPI:
    app = FastAPI(
        title="newswatch",
        summary="Read-only view of the articles, versions, stories and runs newswatch recorded.",
        docs_url=None,  # Swagger UI and ReDoc load scripts from a CDN: not here
        redoc_url=None,
    )
    app.state.db = db
    app.state.config_path = config_path
    app.state.templates = _templates()
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")

    @app.middleware("http")
    async def guard(request: Request, call_next: Any) -> Response:
        if token is not None:
            denied = _check_token(request, token)
            if denied is not None:
                return _with_headers(denied)
        return _with_headers(await call_next(request))

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> Response:
        return error_response(request, exc.status_code, str(exc.detail))

    @app.exception_handler(RequestValidationError)
    async def bad_parameters(request: Request, exc: RequestValidationError) -> Response:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ())[1:]) or "request"
        return error_response(request, 422, f"{where}: {first.get('msg', 'invalid')}")

    from newswatch.web import routes_articles, routes_runs, routes_search, routes_watches

    app.include_router(routes_search.router)
    app.include_router(routes_articles.router)
    app.include_router(routes_runs.router)
    app.include_router(routes_watches.router)
    return app


def _with_headers(response: Response) -> Response:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response


def _check_token(request: Request, token: str) -> Response | None:
    offered = request.query_params.get("token")
    if offered is not None and hmac.compare_digest(offered.encode(), token.encode()):
        # Trade the token in the address for a cookie, and drop it from the address bar.
        params = [(k, v) for k, v in request.query_params.multi_items() if k != "token"]
        target = request.url.path + ("?" + urlencode(params) if params else "")
        response = RedirectResponse(target, status_code=303)
        response.set_cookie(TOKEN_COOKIE, token, httponly=True, samesite="strict")
        return response
    header = request.headers.get("authorization", "")
    bearer = header[7:] if header.lower().startswith("bearer ") else ""
    cookie = request.cookies.get(TOKEN_COOKIE, "")
    if any(hmac.compare_digest(c.encode(), token.encode()) for c in (bearer, cookie) if c):
        return None
    return PlainTextResponse(
        f"a token is needed: open this page with ?token=… once, or send Authorization: Bearer (see {TOKEN_ENV})\n",
        status_code=401,
    )


def error_response(request: Request, status: int, message: str) -> Response:
    if request.url.path.endswith((".json", ".csv", ".jsonl", ".patch", ".txt")) or wants_json(request):
        return JSONResponse({"error": message}, status_code=status)
    return render(request, "error.html", {"status": status, "message": message}, status=status)


def render(request: Request, template: str, context: dict[str, Any], *, status: int = 200) -> HTMLResponse:
    templates: Jinja2Templates = request.app.state.templates
    return templates.TemplateResponse(request, template, context, status_code=status)


def page(request: Request, model: BaseModel, template: str, **context: Any) -> Response:
    """The HTML page, or its JSON twin when the client asked for JSON."""
    if wants_json(request):
        return JSONResponse(jsonable_encoder(model))
    return render(request, template, {"page": model, **context})


def session(request: Request) -> Iterator[Session]:
    """A read-only session for one request (a FastAPI dependency)."""
    db: Database = request.app.state.db
    with db.read_session() as s:
        try:
            yield s
        finally:
            s.rollback()


def token_from_env() -> str | None:
    return os.environ.get(TOKEN_ENV) or None
