"""The workspace commands of the ``govsocial`` command line.

``init`` creates the workspace named by ``--db`` (default ``$GOVSOCIAL_DB``, then
``./govsocial.db``), the only command that does; ``accounts import|list``, ``schedule``,
``enqueue``, ``jobs``, ``cancel``, ``reschedule``, ``metrics collect``, ``report`` and
``worker`` act on it and refuse one that does not exist.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import logging
import signal
import sys
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from govsocial.cli._common import (
    by_arg,
    locked_note,
    media_args,
    models_json,
    open_workspace,
    post_from_args,
    print_json,
    shown,
    signing_key,
)

if TYPE_CHECKING:
    from collections.abc import Callable

    from govsocial.app import Workspace
    from govsocial.cli._common import Commands
    from govsocial.scheduling.jobs import Job

__all__ = ["DEFAULT_CONCURRENCY", "add_parsers"]

#: ``worker --concurrency`` unless given: :data:`govsocial.scheduling.worker.DEFAULT_CONCURRENCY`
#: (repeated, so that the command line starts without importing the worker; a test holds
#: them equal)
DEFAULT_CONCURRENCY = 100


def add_parsers(commands: Commands) -> None:
    """Add the workspace subcommands to the main parser."""
    init = commands.add_parser(
        "init", help="create the workspace (the other commands refuse a --db that does not exist)"
    )
    init.add_argument(
        "url",
        nargs="?",
        metavar="URL",
        help="where: a file path, sqlite:///path or postgresql://... (default: --db)",
    )
    init.set_defaults(handler=_cmd_init)

    accounts = commands.add_parser("accounts", help="the workspace's accounts")
    accounts_do = accounts.add_subparsers(dest="accounts_command", metavar="ACTION", required=True)
    imported = accounts_do.add_parser("import", help="add or replace accounts from a TOML file")
    imported.add_argument("file", help="accounts file (see docs/cli.md)")
    by_arg(imported)
    accounts_do.add_parser("list", help="list accounts, and which are locked (keys check)")
    accounts_do.add_parser("refresh", help="renew expiring tokens (X, LinkedIn, Threads)")
    accounts.set_defaults(handler=_cmd_accounts)

    schedule = commands.add_parser("schedule", help="plan a post for accounts at a time")
    schedule.add_argument("text", help="the post text ('-' reads it from standard input)")
    schedule.add_argument("--to", action="append", required=True, metavar="NAME", help="account")
    schedule.add_argument(
        "--at", required=True, help="when, with its offset: 2026-12-01T09:00+07:00"
    )
    schedule.add_argument(
        "--every", metavar="RRULE", help="repeat: an RFC 5545 rule, e.g. FREQ=WEEKLY;BYDAY=MO"
    )
    schedule.add_argument("--language", help="language code of the post, e.g. id")
    by_arg(schedule)
    media_args(schedule)
    schedule.set_defaults(handler=_cmd_schedule)

    enqueue = commands.add_parser("enqueue", help="plan a post for each account's next free slot")
    enqueue.add_argument("text", help="the post text ('-' reads it from standard input)")
    enqueue.add_argument("--to", action="append", required=True, metavar="NAME", help="account")
    enqueue.add_argument("--language", help="language code of the post, e.g. id")
    by_arg(enqueue)
    media_args(enqueue)
    enqueue.set_defaults(handler=_cmd_enqueue)

    jobs = commands.add_parser("jobs", help="list planned and past jobs")
    jobs.add_argument("--status", help="only jobs with this status")
    jobs.add_argument("--json", action="store_true", help="print JSON")
    jobs.set_defaults(handler=_cmd_jobs)

    cancel = commands.add_parser("cancel", help="cancel what has not started of a job")
    cancel.add_argument("job_id")
    by_arg(cancel)
    cancel.set_defaults(handler=_cmd_cancel)
    reschedule = commands.add_parser("reschedule", help="move what has not started of a job")
    reschedule.add_argument("job_id")
    reschedule.add_argument("--at", required=True, help="when, with its offset")
    by_arg(reschedule)
    reschedule.set_defaults(handler=_cmd_reschedule)

    metrics = commands.add_parser("metrics", help="collect and show metrics")
    metrics_do = metrics.add_subparsers(dest="metrics_command", metavar="ACTION", required=True)
    collect = metrics_do.add_parser("collect", help="snapshot every tracked post and account")
    collect.add_argument(
        "--max-age", type=float, default=90, metavar="DAYS", help="stop measuring older posts"
    )
    metrics.set_defaults(handler=_cmd_metrics)

    report = commands.add_parser("report", help="write a metrics report for a period")
    report.add_argument(
        "--period",
        required=True,
        help="2026-11, 2026-W48, 2026-Q4, 2026, 2026-11-03 or 2026-11-01..2026-11-15",
    )
    report.add_argument(
        "--by",
        action="append",
        choices=("platform", "account", "label"),
        help="summary to include (repeatable; default: all three)",
    )
    report.add_argument("--format", choices=("html", "csv", "json"), default="html")
    report.add_argument(
        "--part",
        choices=("summary", "listening", "clarifications"),
        default="summary",
        help="with --format csv: the summaries, the inbox per intent, or the clarifications",
    )
    report.add_argument("--output", metavar="FILE", help="default: report-<period>.<format>")
    report.add_argument("--zone", help="time zone of the calendar (default: the accounts')")
    report.add_argument("--title", help="title of the report")
    report.set_defaults(handler=_cmd_report)

    worker = commands.add_parser("worker", help="publish due posts as they fall due")
    worker.add_argument(
        "--until-idle",
        action="store_true",
        help="stop when nothing is left to send (processing posts wait for the next run)",
    )
    worker.add_argument(
        "--concurrency",
        type=int,
        default=DEFAULT_CONCURRENCY,
        metavar="N",
        help=f"deliveries in flight at once, claimed and checked together (default "
        f"{DEFAULT_CONCURRENCY})",
    )
    worker.add_argument(
        "--lease",
        type=float,
        default=60.0,
        metavar="SECONDS",
        help="how long a claim outlives this worker if it dies (default 60)",
    )
    worker.add_argument(
        "--processing-limit",
        type=float,
        default=48.0,
        metavar="HOURS",
        help="how long a platform may process an accepted post before the delivery ends "
        "unknown (default 48)",
    )
    worker.add_argument(
        "--all-workspaces",
        action="store_true",
        help="serve every workspace registered in --db, fairly (`govsocial workspaces`)",
    )
    worker.add_argument(
        "--per-turn",
        type=int,
        default=25,
        metavar="N",
        help="with --all-workspaces: the deliveries claimed from one workspace per turn "
        "(default 25; more when few workspaces have work)",
    )
    worker.add_argument(
        "--platform-rate",
        action="append",
        default=[],
        metavar="PLATFORM=N",
        help="with --all-workspaces: at most N requests a second to each server of PLATFORM, "
        "shared by every worker on --db (repeatable)",
    )
    worker.add_argument(
        "--account-rate",
        type=float,
        default=None,
        metavar="N",
        help="with --all-workspaces: at most N requests a second per account, shared by "
        "every worker on --db",
    )
    worker.set_defaults(handler=_cmd_worker)


def _show_job(job: Job) -> str:
    lines = [
        f"job {job.id}  {job.status}" + (f"  every {job.recurrence}" if job.recurrence else "")
    ]
    for d in job.deliveries:
        where = f"  {d.ref.url or d.ref.id}" if d.ref else ""
        error = f"  ({d.error})" if d.error and d.status != "published" else ""
        look = "looks again " if d.status == "processing" else ""
        lines.append(
            shown(
                f"  {d.account:<20} {d.status:<10} {look}{d.due_at:%Y-%m-%d %H:%M}Z "
                f"attempts={d.attempts}{where}{error}"
            )
        )
    return "\n".join(lines)


def _cmd_init(args: argparse.Namespace) -> int:
    from govsocial.app import Workspace

    with Workspace.open(args.url or args.db) as ws:
        if ws.store.created:
            print(f"created the workspace {ws.url}")
        else:
            print(f"{ws.url} is already a workspace (schema up to date)")
    return 0


def _cmd_accounts(args: argparse.Namespace) -> int:
    from govsocial.client.accounts_file import load_accounts

    with open_workspace(args) as ws:
        if args.accounts_command == "import":
            found = load_accounts(Path(args.file), check_env=False)
            for name, account in found.items():  # the whole file is refused, and audited
                ws.core.check_env_references(name, account, by=args.by)
            for name, account in found.items():
                ws.add_account(name, account, by=args.by, key=signing_key(args))
                print(shown(f"{name}: {account.platform} {account.handle}"))
        elif args.accounts_command == "refresh":
            outcome = ws.refresh_credentials()
            for name, result in outcome.items():
                print(shown(f"{name:<20} {result}"))
            return 1 if any(r.startswith("failed") for r in outcome.values()) else 0
        else:  # the rows, not the opened accounts: a locked account is listed too
            locks = ws.core.account_locks()
            for row in ws.store.accounts():
                line = f"{row.name:<20} {row.platform:<10} {row.handle}  ({row.timezone})"
                if row.name in locks:
                    line += f"  {locked_note(locks[row.name])}"
                print(shown(line))
    return 0


def _cmd_schedule(args: argparse.Namespace) -> int:
    with open_workspace(args) as ws:
        job = ws.schedule(
            post_from_args(args),
            accounts=args.to,
            at=args.at,
            recurrence=args.every,
            by=args.by,
            key=signing_key(args),
        )
        print(_show_job(job))
    return 0


def _cmd_enqueue(args: argparse.Namespace) -> int:
    with open_workspace(args) as ws:
        print(
            _show_job(
                ws.enqueue(
                    post_from_args(args), accounts=args.to, by=args.by, key=signing_key(args)
                )
            )
        )
    return 0


def _cmd_jobs(args: argparse.Namespace) -> int:
    with open_workspace(args) as ws:
        jobs = ws.jobs(status=args.status)
        if args.json:
            print_json(models_json(jobs))
        elif not jobs:
            print("no jobs")
        else:
            print("\n".join(_show_job(job) for job in jobs))
    return 0


def _cmd_cancel(args: argparse.Namespace) -> int:
    with open_workspace(args) as ws:
        print(_show_job(ws.cancel(args.job_id, by=args.by, key=signing_key(args))))
    return 0


def _cmd_reschedule(args: argparse.Namespace) -> int:
    with open_workspace(args) as ws:
        print(_show_job(ws.reschedule(args.job_id, at=args.at, by=args.by, key=signing_key(args))))
    return 0


def _cmd_worker(args: argparse.Namespace) -> int:
    from govsocial.client import AsyncClient
    from govsocial.core.errors import ConfigurationError
    from govsocial.scheduling.worker import Worker

    if not args.lease > 0:  # also refuses nan
        raise ConfigurationError("--lease must be a positive number of seconds", field="lease")
    if not 0 < args.processing_limit < 24 * 365:  # also refuses nan and inf
        raise ConfigurationError(
            "--processing-limit must be a number of hours above 0 and under a year",
            field="processing_limit",
        )
    logging.basicConfig(
        level=logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    logging.getLogger("httpx").setLevel(logging.WARNING)
    if args.all_workspaces:
        return _run_fleet(args)
    limit = timedelta(hours=args.processing_limit)
    with open_workspace(args, lease=args.lease, processing_limit=limit) as ws:
        worker = Worker(ws, concurrency=args.concurrency)

        async def main() -> int:
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for signum in (signal.SIGTERM, signal.SIGINT):
                loop.add_signal_handler(signum, stop.set)
            print(f"worker {worker.owner} on {ws!r}", file=sys.stderr, flush=True)
            retention = asyncio.create_task(_hourly(functools.partial(_apply_retention, ws), stop))
            try:
                async with AsyncClient(**ws.core.client_options()) as client:
                    handled = await worker.run(
                        client,
                        stop=stop,
                        until_idle=args.until_idle,
                        on_handled=lambda n: print(f"claimed {n}", file=sys.stderr, flush=True),
                    )
            finally:
                stop.set()  # the retention run under way finishes; no new one starts
                await retention
            print(f"worker stopped after {handled} deliveries", file=sys.stderr, flush=True)
            return 0

        return asyncio.run(main())


def _platform_rates(values: list[str]) -> dict[str, float]:
    from govsocial.core.errors import ConfigurationError

    rates: dict[str, float] = {}
    for value in values:
        platform, _, number = value.partition("=")
        try:
            rates[platform.strip()] = float(number)
        except ValueError:
            raise ConfigurationError(
                f"--platform-rate {value!r} is not PLATFORM=N",
                field="platform_rate",
                hint="for example --platform-rate mastodon=5",
            ) from None
    return rates


def _run_fleet(args: argparse.Namespace) -> int:
    """``worker --all-workspaces``: one :class:`~govsocial.scheduling.fleet.Fleet`."""
    import os

    from govsocial.core.errors import ConfigurationError
    from govsocial.scheduling.fleet import Fleet, RateBudgets
    from govsocial.workspace.core import DEFAULT_DB
    from govsocial.workspace.tenancy import Workspaces

    if getattr(args, "workspace", None):
        raise ConfigurationError(
            "--all-workspaces serves every workspace: leave --workspace out",
            field="workspace",
        )
    url = args.db or os.environ.get("GOVSOCIAL_DB") or DEFAULT_DB
    limit = timedelta(hours=args.processing_limit)
    with Workspaces.open(url, lease=args.lease, processing_limit=limit) as spaces:
        budgets = RateBudgets(
            spaces.registry,
            platform_rates=_platform_rates(args.platform_rate),
            account_rate=args.account_rate,
        )
        fleet = Fleet(spaces, concurrency=args.concurrency, per_turn=args.per_turn, budgets=budgets)

        async def main() -> int:
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for signum in (signal.SIGTERM, signal.SIGINT):
                loop.add_signal_handler(signum, stop.set)
            print(
                f"worker {fleet.owner} on every workspace of {spaces.registry.url}",
                file=sys.stderr,
                flush=True,
            )
            # each workspace's, through a connection of its own: erasing thousands of items
            # must not hold the fleet's
            retention = asyncio.create_task(
                _hourly(functools.partial(_apply_fleet_retention, url), stop)
            )
            try:
                handled = await fleet.run(
                    stop=stop,
                    until_idle=args.until_idle,
                    on_claimed=lambda name, n: print(
                        f"claimed {n} in {name}", file=sys.stderr, flush=True
                    ),
                )
            finally:
                stop.set()  # the retention run under way finishes; no new one starts
                await retention
            print(f"worker stopped after {handled} deliveries", file=sys.stderr, flush=True)
            return 0

        return asyncio.run(main())


#: How often a running worker erases inbox content past the retention (docs/inbox.md).
RETENTION_EVERY = 3600.0


async def _hourly(apply: Callable[[], None], stop: asyncio.Event) -> None:
    """Run ``apply`` (the inbox retention) when the worker starts and then once an hour
    until ``stop``, in a thread (it writes to the database), never stopping the worker."""
    while True:
        await asyncio.to_thread(apply)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=RETENTION_EVERY)
        if stop.is_set():
            return


def _apply_fleet_retention(url: str) -> None:
    """Apply each workspace's inbox retention (those with none set are skipped at once);
    what was erased is logged, and a failure is logged too, the other workspaces still
    served."""
    from govsocial.inbox.erasure import apply_retention
    from govsocial.workspace.tenancy import Workspaces

    log = logging.getLogger("govsocial.inbox")
    try:
        spaces = Workspaces.open(url)
    except Exception as error:  # noqa: BLE001 - retention never stops the worker
        log.warning("inbox retention not applied: %s", error)
        return
    with spaces:
        for entry in spaces.list(archived=False):
            try:
                done = apply_retention(spaces.core(entry.name))
            except Exception as error:  # noqa: BLE001 - nor does one workspace the others
                log.warning("inbox retention not applied in %s: %s", entry.name, error)
                continue
            if done.items:
                log.info(
                    "inbox retention erased %d items in %s %s",
                    done.items,
                    entry.name,
                    done.by_platform,
                )


def _apply_retention(ws: Workspace) -> None:
    """Apply the inbox retention; what was erased is logged, and a failure is logged too."""
    log = logging.getLogger("govsocial.inbox")
    try:
        done = ws.apply_retention()
    except Exception as error:  # noqa: BLE001 - retention never stops the worker
        log.warning("inbox retention not applied: %s", error)
        return
    if done.items:
        log.info("inbox retention erased %d items %s", done.items, done.by_platform)


def _cmd_metrics(args: argparse.Namespace) -> int:
    from datetime import timedelta

    with open_workspace(args) as ws:
        accounts = len(ws.store.accounts())
        seen = {"accounts": 0, "posts": 0}
        live = sys.stderr.isatty()

        def progress(account: str, posts: int) -> None:
            seen["accounts"] += 1
            seen["posts"] += posts
            filled = 30 * seen["accounts"] // max(1, accounts)
            bar = f"[{'#' * filled}{'.' * (30 - filled)}] {seen['accounts']}/{accounts} accounts"
            line = shown(f"{bar}, {seen['posts']} posts  ({account})")
            print(f"\r{line}" if live else line, end="" if live else "\n", file=sys.stderr)

        print(f"collecting metrics in {ws!r} ...", file=sys.stderr, flush=True)
        done = ws.pull_metrics(max_age=timedelta(days=args.max_age), progress=progress)
        if live:
            print(file=sys.stderr)
        print(f"{done.posts} post snapshots, {done.accounts} account snapshots")
        for name, reason in done.failed.items():
            print(shown(f"  {name}: not collected: {reason}"), file=sys.stderr)
    return 1 if done.failed else 0


def _cmd_report(args: argparse.Namespace) -> int:
    from govsocial.core.errors import ConfigurationError

    try:
        from govsocial.analytics.analysis import BY
        from govsocial.analytics.report import workspace_report
    except ImportError:
        raise ConfigurationError(
            "reports need pandas and matplotlib",
            field="format",
            hint="pip install 'govsocial[notebook]'",
        ) from None
    with open_workspace(args) as ws:
        report = workspace_report(
            ws, args.period, zone=args.zone, title=args.title, by=args.by or BY
        )
    output = Path(args.output or f"report-{report.period.label}.{args.format}")
    if args.format == "csv":
        print(report.to_csv(output, part=args.part))
    else:
        print(report.to_html(output) if args.format == "html" else report.to_json(output))
    return 0
