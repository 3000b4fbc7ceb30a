"""``/runs``, ``/runs/{id}`` and ``/outlets`` (schedule, last and next run, parser health)."""

from __future__ import annotations

import csv
import io
from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session
from starlette.exceptions import HTTPException

from crawler.outlets import ConfigError, load_outlets
from newswatch.scheduling.jobstore import job_id
from newswatch.spreadsheet import inert_cell
from newswatch.web.app import MAX_ID, RowId, page, session
from newswatch.web.routes_search import ERRORS
from newswatch.web.schemas import OutletOut, OutletsOut, ProblemOut, RunDetailOut, RunOut, RunsOut
from storage import browse
from storage.outcomes import RUN_COUNTS

router = APIRouter()
DB = Annotated[Session, Depends(session)]
After = Annotated[int | None, Query(ge=0, le=MAX_ID, description="Keyset: the next_after of the previous page")]


def run_out(row: browse.RunRow) -> RunOut:
    return RunOut(**row.__dict__)


def build_runs(db: Session, after: int | None) -> RunsOut:
    rows, next_after = browse.runs(db, after=after)
    return RunsOut(runs=[run_out(r) for r in rows], next_after=next_after)


@router.get("/runs.json", response_model=RunsOut, responses=ERRORS, summary="Crawl runs, newest first")
def runs_json(db: DB, after: After = None) -> RunsOut:
    return build_runs(db, after)


@router.get("/runs.csv", responses={200: {"content": {"text/csv": {}}}, **ERRORS}, summary="Crawl runs as CSV")
def runs_csv(db: DB, after: After = None) -> Response:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["id", "status", "mode", "origin", "outlets", "started_at", "finished_at", *RUN_COUNTS, "message"])
    for run in build_runs(db, after).runs:
        # The message may quote a page's error or a file name: made inert like the rest.
        writer.writerow([run.id, run.status, run.mode, run.origin, " ".join(run.outlets), run.started_at.isoformat(),
                         run.finished_at.isoformat() if run.finished_at else "", *(run.counts[n] for n in RUN_COUNTS),
                         inert_cell(run.message or "")])
    return Response(out.getvalue(), media_type="text/csv; charset=utf-8")


@router.get("/runs", include_in_schema=False, response_class=HTMLResponse)
def runs_html(request: Request, db: DB, after: After = None) -> Response:
    return page(request, build_runs(db, after), "runs.html")


def build_run(db: Session, run_id: RowId) -> RunDetailOut:
    found = browse.run(db, run_id)
    if found is None:
        raise HTTPException(404, f"no run {run_id}")
    row, problems = found
    return RunDetailOut(run=run_out(row), problems=[ProblemOut(**asdict(p)) for p in problems])


@router.get("/runs/{run_id:int}.json", response_model=RunDetailOut, responses=ERRORS, summary="One crawl run")
def run_json(db: DB, run_id: RowId) -> RunDetailOut:
    return build_run(db, run_id)


@router.get("/runs/{run_id:int}", include_in_schema=False, response_class=HTMLResponse)
def run_html(request: Request, db: DB, run_id: RowId) -> Response:
    return page(request, build_run(db, run_id), "run.html")


def _health(last: browse.RunRow | None) -> str:
    if last is None:
        return "never run"
    if last.status in ("failed", "interrupted"):
        return "failed"
    return "problems" if last.counts["dropped"] or last.counts["error"] else "ok"


def build_outlets(request: Request, db: Session) -> OutletsOut:
    try:
        outlets = load_outlets(request.app.state.config_path)
    except ConfigError as exc:
        raise HTTPException(500, f"outlets config: {exc}") from None
    names = sorted(set(outlets) | set(browse.stored_outlets(db)))
    activity = browse.outlet_activity(db, names)
    next_runs = browse.next_run_times(db)
    rows = []
    for name in names:
        outlet = outlets.get(name)
        last = activity[name].last_run
        rows.append(OutletOut(
            name=name, enabled=outlet.enabled if outlet else False,
            schedule=outlet.schedule.describe() if outlet else "not in the outlets config (replayed or removed)",
            start_urls=list(outlet.start_urls) if outlet else [], articles=activity[name].articles,
            last_run=run_out(last) if last else None, next_run_at=next_runs.get(job_id(name)),
            health=_health(last),
        ))
    return OutletsOut(outlets=rows)


@router.get("/outlets.json", response_model=OutletsOut, responses=ERRORS, summary="Outlets: schedule, runs, health")
def outlets_json(request: Request, db: DB) -> OutletsOut:
    return build_outlets(request, db)


@router.get("/outlets", include_in_schema=False, response_class=HTMLResponse)
def outlets_html(request: Request, db: DB) -> Response:
    return page(request, build_outlets(request, db), "outlets.html")
