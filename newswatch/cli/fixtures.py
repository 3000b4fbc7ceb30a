"""``newswatch fixtures capture|check``: a page that came out wrong becomes a regression test."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from newswatch.cli.crawl import configured_outlets
from newswatch.cli.render import console, fail, print_json, table, text

app = typer.Typer(help="Saved pages with reviewed records (goldens).", no_args_is_help=True)

#: The fixtures shipped with newswatch (and replayed by `newswatch replay`).
BUNDLED_FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
DirOption = Annotated[
    Path, typer.Option("--dir", help="Fixtures directory (<spider>/<file> pages and goldens).")
]


@app.command("capture")
def capture_command(
    ctx: typer.Context,
    url: Annotated[str, typer.Argument(help="The page to capture.")],
    outlet_name: Annotated[str, typer.Option("--outlet", help="Configured outlet the page belongs to.")],
    directory: DirOption = BUNDLED_FIXTURES,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Fetch one page as a crawl would, save it under <dir>/<spider>/ and write its record to review.

    Example: newswatch fixtures capture https://www.rfi.fr/cn/... --outlet rfi_cn
    """
    from newswatch.fixtures import CaptureError, capture

    outlets = configured_outlets(ctx)
    if outlet_name not in outlets:
        fail(f"no outlet named {outlet_name} (known: {', '.join(outlets)})")
        raise typer.Exit(2)
    try:
        captured = capture(url, outlets[outlet_name], directory)
    except CaptureError as exc:
        fail(f"capture failed: {exc}")
        raise typer.Exit(1) from None
    summary = {
        "page": str(captured.page),
        "golden": str(captured.golden),
        "title": captured.record.get("title"),
        "published_at": captured.record.get("published_at"),
        "not_an_article": captured.record.get("not_an_article"),
    }
    if as_json:
        print_json(summary)
        return
    for key, value in summary.items():
        if value is not None:
            console.print(text(f"{key:15}") + text(value))
    console.print(text("Review the golden against the page, correct it, then run `newswatch fixtures check`."))


@app.command("check")
def check_command(
    directory: DirOption = BUNDLED_FIXTURES,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Parse every fixture that has a golden and report the fields that differ. Exit 1 on any difference."""
    from newswatch.fixtures import check

    if not directory.is_dir():
        fail(f"no fixtures directory at {directory}")
        raise typer.Exit(2)
    results = check(directory)
    if as_json:
        print_json([
            {"fixture": r.fixture, "ok": r.ok, "problem": r.problem,
             "differences": {k: {"golden": g, "now": n} for k, (g, n) in r.differences.items()}}
            for r in results
        ])  # fmt: skip
    else:
        view = table("fixture", "field", "golden", "now", title=f"Fixtures in {directory}")
        for result in results:
            if result.ok:
                view.add_row(text(result.fixture), text("ok", "green"), text(""), text(""))
            elif result.problem:
                view.add_row(text(result.fixture), text("problem", "red"), text(result.problem), text(""))
            for name, (golden, now) in result.differences.items():
                view.add_row(text(result.fixture), text(name, "red"), text(_short(golden)), text(_short(now)))
        console.print(view)
        failing = sum(1 for r in results if not r.ok)
        console.print(text(f"{len(results)} fixtures, {failing} differ from their golden"))
    raise typer.Exit(0 if all(r.ok for r in results) else 1)


def _short(value: Any, limit: int = 80) -> str:
    shown = str(value)
    return shown if len(shown) <= limit else shown[: limit - 1] + "…"
