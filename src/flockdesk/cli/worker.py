"""`flockdesk worker` (poll sources, send the outbox, run the periodic jobs) and `flockdesk status`."""

from __future__ import annotations

import logging
import signal
import threading
from typing import Annotated, Any

import orjson
import typer
from rich.console import Console
from rich.table import Table

from flockdesk.cli.common import DataDirOpt, settings_from
from flockdesk.jobs.worker import Worker
from flockdesk.services.monitoring.status import snapshot
from flockdesk.store.db import make_engine, upgrade


def worker_command(
    once: Annotated[
        bool,
        typer.Option("--once", help="One pass over every enabled source and every periodic job, then exit."),
    ] = False,
    data_dir: DataDirOpt = None,
) -> None:
    """Poll every enabled source on its schedule, send queued replies and DMs, wake snoozed conversations,
    check for spikes and retry alerts. Several workers may share one PostgreSQL store: they split the
    work under leases. Stops on SIGTERM/Ctrl-C and gives its leases back."""
    settings = settings_from(data_dir)
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    engine = make_engine(settings)
    upgrade(engine)
    stop = threading.Event()

    def _stop(signum: int, _frame: Any) -> None:
        logging.getLogger("flockdesk.worker").info("signal %s: stopping after the current page", signum)
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    try:
        Worker(engine, settings, stop=stop).run(once=once)
    finally:
        engine.dispose()


def _print_status(data: dict[str, Any]) -> None:
    console = Console()
    acc = Table(title="Accounts")
    for col in ("id", "platform", "user", "purpose", "base url"):
        acc.add_column(col)
    for a in data["accounts"]:
        acc.add_row(str(a["id"]), a["platform"], f"@{a['username']}", a["purpose"], a["base_url"])
    console.print(acc)
    src = Table(title="Sources")
    for col in (
        "id",
        "account",
        "kind",
        "query",
        "last poll",
        "since id",
        "in progress",
        "next poll",
        "last error",
    ):
        src.add_column(col)
    for s in data["sources"]:
        src.add_row(
            str(s["id"]),
            f"@{s['account_username']}",
            s["kind"],
            s["query"] or "",
            str(s["last_polled_at"] or "never"),
            s["since_id"] or "",
            "yes" if s["next_token"] else "",
            str(s["next_poll_at"] or ""),
            s["last_error"] or "",
        )
    console.print(src)
    rl = Table(title="Rate limits (last headers)")
    for col in ("account", "endpoint", "remaining / limit", "reset"):
        rl.add_column(col)
    for r in data["rate_limits"]:
        rl.add_row(
            str(r["account_id"]), r["endpoint"], f"{r['remaining']} / {r['limit']}", str(r["reset_at"] or "")
        )
    console.print(rl)
    u = data["usage"]
    use = Table(
        title=f"API usage {u['month']}: ${u['spent_usd']:.2f} spent, ${u['projected_usd']:.2f} projected, "
        f"budget ${u['budget_usd']:.2f}"
    )
    for col in ("endpoint", "calls", "items", "billed", "cost (USD)"):
        use.add_column(col)
    for e in u["by_endpoint"]:  # billed: items charged (a resource is billed once per UTC day)
        use.add_row(e["endpoint"], str(e["calls"]), str(e["items"]), str(e["billed"]), f"{e['cost_usd']:.4f}")
    console.print(use)
    jobs = Table(title="Periodic jobs")
    for col in ("job", "next run", "held by", "last finished", "last error"):
        jobs.add_column(col)
    for j in data.get("jobs", []):
        jobs.add_row(
            j["name"],
            str(j["next_run_at"]),
            j["owner"] or "",
            str(j["last_finished_at"] or "never"),
            j["last_error"] or "",
        )
    console.print(jobs)
    rt = Table(title="Real time (X Activity API)")
    for col in ("account", "state", "delivery", "last event", "lag last / p50 / p95 (ms)", "note"):
        rt.add_column(col)

    def ms(value: Any) -> str:
        return "-" if value is None else f"{value:.0f}"

    for r in data.get("realtime", []):
        rt.add_row(
            str(r["account_id"]),
            r["state"],
            r["delivery"] or "",
            str(r["last_event_at"] or "never"),
            f"{ms(r['lag_last_ms'])} / {ms(r['lag_p50_ms'])} / {ms(r['lag_p95_ms'])}",
            r["last_error"]
            or r["subscription_error"]
            or ("reconnect the account" if r["needs_reconnect"] else ""),
        )
    console.print(rt)
    console.print(f"outbox: {data['outbox'] or 'empty'}; dead letters: {data['dead_letters']}")


def status_command(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
    data_dir: DataDirOpt = None,
) -> None:
    """Accounts, sources (last poll, cursor, next poll), rate limits, API calls and spend vs budget."""
    settings = settings_from(data_dir)
    engine = make_engine(settings)
    try:
        upgrade(engine)
        data = snapshot(engine, settings.monthly_budget_usd, live_window_s=settings.realtime_live_window_s)
    finally:
        engine.dispose()
    if as_json:
        typer.echo(orjson.dumps(data, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS).decode())
    else:
        _print_status(data)


def register(app: typer.Typer) -> None:
    app.command("worker")(worker_command)
    app.command("status")(status_command)
