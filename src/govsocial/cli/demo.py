"""``govsocial demo``: the whole loop against real servers on this machine, nothing to configure.

For every installed platform whose adapter can start a local server (mastodon-mock for
Mastodon, the reference PDS and AppView for Bluesky), the demo starts it, publishes one
sample post with an image and alt text to every platform at once, reads the post back from
the server, has a second account like and answer it, and prints links, metrics and replies.
In a workspace, citizens then ask, complain and report a hoax: the inbox classifies each,
siti answers, and the hoax report is answered with a clarification published for it.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from contextlib import ExitStack
from functools import partial
from typing import Any, TextIO, TypeVar

from govsocial.adapters.platform import LocalServer
from govsocial.app import Workspace
from govsocial.cli._common import shown
from govsocial.cli._png import gradient_png
from govsocial.client import Client
from govsocial.core.errors import ConfigurationError, GovSocialError, NotPermitted
from govsocial.core.models import Account, Media, Post, PostMetrics, PostRef
from govsocial.plugin.manager import default_plugins

__all__ = ["run_demo"]

T = TypeVar("T")

SAMPLE_TEXT = (
    "Selamat pagi, warga! Vaksinasi gratis hari ini di Balai Kota pukul 08.00 WIB. "
    "Info lengkap: https://example.go.id/vaksinasi #InfoPublik #Vaksinasi"
)
SAMPLE_ALT = "Poster biru-hijau: jadwal vaksinasi gratis di Balai Kota, pukul 08.00 WIB"
#: What citizens write under the approved post, and siti's answer to each (None: the hoax
#: report, answered with the clarification's link).
CITIZENS: tuple[tuple[str, str | None], ...] = (
    ("Apakah perlu daftar dulu?", "Tidak perlu, langsung datang ke Balai Kota. Terima kasih!"),
    (
        "Antrean kemarin kacau, dua jam tidak dilayani. Kecewa!",
        "Mohon maaf atas antreannya. Hari ini petugas kami tambah dua orang.",
    ),
    ("Min, pesan berantai vaksinasi berbayar Rp50.000 itu hoaks ya?", None),
)


def run_demo(*, only: list[str] | None = None, out: TextIO = sys.stdout) -> int:
    """Run the demo; return 0 when every started platform worked, 1 otherwise."""

    def say(message: str) -> None:
        # servers' answers and errors are outside text: each line goes through shown()
        print("\n".join(shown(line) for line in message.split("\n")), file=out, flush=True)

    platforms = default_plugins().platforms()
    if not platforms:
        say("No platform adapters are installed: pip install govsocial-mastodon govsocial-bluesky")
        return 1
    chosen = {name: cls for name, cls in platforms.items() if not only or name in only}
    servers: dict[str, LocalServer] = {}
    with ExitStack() as stack:
        for name, cls in chosen.items():
            manager = cls.local_server()
            refused = _refusal(name) if manager is not None else None
            if refused is not None:  # a video-only platform (YouTube) cannot take the sample
                say(f"- {cls.title}: the demo's image post does not fit it ({refused}), skipped")
                continue
            if manager is None:
                say(
                    f"- {cls.title}: no local server exists for it, skipped (tested on an emulator)"
                )
                continue
            say(f"- starting a local {cls.title} server ...")
            started = time.monotonic()
            try:
                servers[name] = stack.enter_context(manager)
            except Exception as exc:  # noqa: BLE001 - the demo goes on with the others
                say(f"  {cls.title} skipped: {exc}")
                continue
            say(f"  ready in {time.monotonic() - started:.1f} s")
        if not servers:
            say("No local server could be started.")
            return 1
        status = _tour(servers, say) | _video(servers, say) | _campaign(servers, say)
        say("\nDone." if status == 0 else "\nSome steps failed: see above.")
        return status


def _sample_post() -> Post:
    return Post(SAMPLE_TEXT, media=[Media(data=gradient_png(), alt_text=SAMPLE_ALT)], language="id")


def _refusal(platform: str) -> str | None:
    """Why the sample post cannot go to ``platform`` (None: it can)."""
    from govsocial.client.validation import validate

    errors = [p for p in validate(_sample_post(), platform) if p.severity == "error"]
    return errors[0].message if errors else None


def _tour(servers: dict[str, LocalServer], say: Callable[[str], None]) -> int:
    post = _sample_post()
    authors = {name: server.accounts[0] for name, server in servers.items()}
    failures = 0
    with Client(max_wait=10.0) as client:
        say("\nPublishing one post to every platform at once:")
        results = client.publish(post, list(authors.values()))
        refs: dict[str, PostRef] = {}
        for name, result in zip(authors, results, strict=True):
            if result.ok and result.ref is not None:
                refs[name] = result.ref
                say(f"  {name:<9} published  {result.ref.url or result.ref.id}")
            else:
                failures += 1
                say(f"  {name:<9} FAILED     {result.error}")

        say("\nRead back from each server (not from the adapter):")
        for name, ref in refs.items():
            stored = servers[name].stored_post(ref)
            if stored is None:
                failures += 1
                say(f"  {name:<9} NOT FOUND on the server")
                continue
            text = servers[name].stored_text(stored)
            alts = servers[name].stored_alt_texts(stored)
            say(f"  {name:<9} text: {text[:60]}...  alt: {alts}")

        say("\nA citizen likes the post and asks a question; the admin answers:")
        for name, ref in refs.items():
            try:
                _converse(client, servers[name], name, ref, say)
            except GovSocialError as error:
                say(f"  {name:<9} could not converse here: {error}")

        say("\nMetrics, in one vocabulary (None = the platform does not report it):")
        for name, ref in refs.items():
            try:
                _show_metrics(client, authors[name], name, ref, say)
            except GovSocialError as error:
                say(f"  {name:<9} no metrics here: {error}")
    if failures:
        say(f"\n{failures} problem(s): see above.")
    return 1 if failures else 0


def _video(servers: dict[str, LocalServer], say: Callable[[str], None]) -> int:
    """A short 9:16 video made here, posted to every platform that takes video."""
    from govsocial.core.video import video_support

    takers = {
        name: server
        for name, server in servers.items()
        if default_plugins().platform(name).limits.video_types
    }
    if not takers:
        return 0
    missing = video_support()
    if missing is not None:
        say(f"\nA short video: skipped ({missing})")
        return 0
    from govsocial.testing.video import make_video

    say("\nA short video (4 s, 9:16, H.264), made here, to every platform that takes video:")
    video = Media(data=make_video(width=360, height=640, seconds=4, fps=30))
    post = Post("Video layanan: cara mengurus KTP elektronik. #InfoPublik", media=[video])
    failures = 0
    with Client(max_wait=10.0) as client:
        authors = [server.accounts[0] for server in takers.values()]
        for (name, server), result in zip(
            takers.items(), client.publish(post, authors), strict=True
        ):
            if not result.ok or result.ref is None:
                failures += 1
                say(f"  {name:<9} FAILED     {result.error}")
                continue
            stored = server.stored_post(result.ref)
            kinds = getattr(server, "stored_media_kinds", None)
            held = kinds(stored) if kinds is not None and stored is not None else None
            say(f"  {name:<9} published  {result.ref.url or result.ref.id}  stored: {held}")
    return 1 if failures else 0


def _campaign(servers: dict[str, LocalServer], say: Callable[[str], None]) -> int:
    """Plan a small campaign a few seconds ahead in a workspace and let a worker publish it."""
    import asyncio
    import os
    import tempfile
    from datetime import UTC, datetime, timedelta

    from govsocial.scheduling.worker import Worker

    say("\nA campaign planned in a workspace, published by a worker as it falls due:")
    with (
        tempfile.TemporaryDirectory() as folder,
        Workspace.open(os.path.join(folder, "demo.db")) as ws,
    ):
        names = []
        for platform, server in servers.items():
            account = server.accounts[0]
            references = {}
            for field, secret in account.credentials.items():  # secrets stay in the environment
                variable = f"GOVSOCIAL_CRED_DEMO_{platform.upper()}_{field.upper()}"
                os.environ[variable] = secret.get_secret_value()
                references[field] = f"env:{variable}"
            named = Account(**account.model_dump(exclude={"credentials"}), credentials=references)
            ws.add_account(f"humas-{platform}", named)
            names.append(f"humas-{platform}")
        _appoint_team(ws, names, say)
        start = datetime.now(UTC)
        texts = [
            "Pengingat: pendaftaran vaksinasi dibuka besok pukul 08.00 WIB. #InfoPublik",
            "Hari ini: layanan KTP keliling di Kecamatan Sukamaju. #InfoPublik",
            "Terima kasih atas partisipasi warga dalam vaksinasi pekan ini. #InfoPublik",
        ]
        request = ws.request_content(
            from_unit="Dinas Kesehatan", topic="Jadwal vaksinasi", due=start.date(), by="siti"
        )
        say(f"  Diskominfo asks Dinas Kesehatan for material: request {request.id[:8]}")
        draft = ws.add_draft(
            Post(texts[0]),
            accounts=names,
            by="budi",
            at=start + timedelta(seconds=3),
            request=request.id,
        )
        say(f"  budi (contributor) drafts {draft.id[:8]} for it; it waits for approval")
        try:
            ws.schedule(Post(texts[0]), names, at=start + timedelta(seconds=3), by="budi")
        except NotPermitted as refused:
            say(f"  budi tries to schedule it himself: refused ({refused.message[:70]}...)")
        approved = ws.approve(draft.id, by="siti")
        say(f"  siti (approver) approves it: {approved.status} as job {approved.job_id or '-'}")
        for offset, text in enumerate(texts[1:], start=2):
            job = ws.schedule(
                Post(text), accounts=names, at=start + timedelta(seconds=3 * offset), by="siti"
            )
            local = job.deliveries[0].due_at.astimezone(UTC)
            say(f"  siti (admin) plans {job.id[:8]} for {local:%H:%M:%S} UTC: {text[:40]}...")

        async def work() -> int:
            from govsocial.client import AsyncClient

            async with AsyncClient(**ws.core.client_options()) as client:
                return await Worker(ws, concurrency=10).run(
                    client, stop=asyncio.Event(), until_idle=True, poll=0.2
                )

        handled = asyncio.run(work())
        failures = 0
        for job in ws.jobs():
            for delivery in job.deliveries:
                where = delivery.ref.url or delivery.ref.id if delivery.ref else delivery.error
                say(f"  {job.id[:8]} {delivery.account:<17} {delivery.status:<10} {where}")
                failures += delivery.status != "published"
        say(f"  the worker handled {handled} deliveries")
        failures += _inbox_round(ws, servers, say)
        failures += _watch_round(ws, servers, names, say)
        failures += _feed_round(ws, names, say)
        failures += _audit_check(ws, say)
        failures += _measure_and_report(ws, servers, say)
    return 1 if failures else 0


def _inbox_round(ws: Workspace, servers: dict[str, LocalServer], say: Callable[[str], None]) -> int:
    """Citizens answer the approved post; the inbox gathers it; siti replies; her figures."""
    from datetime import UTC, datetime, timedelta
    from zoneinfo import ZoneInfo

    from govsocial.analytics.performance import performance_rows

    say(
        "\nThe inbox: citizens ask, complain and report a hoax under the approved post; "
        "each is classified, siti answers from one list:"
    )
    job = next((d.job_id for d in ws.drafts() if d.job_id), None)
    asked = 0
    with Client(max_wait=10.0) as client:
        for delivery in ws.job(job).deliveries if job else ():
            platform = ws.account(delivery.account).platform
            if delivery.ref is None or platform not in servers:
                continue
            ws.set_service_hours(
                delivery.account,
                "Mon-Sun 00:00-24:00",
                holidays=None,
                target=timedelta(hours=1),
                by="siti",
            )
            server = servers[platform]
            comment = getattr(server, "comment", None)
            for text, _answer in CITIZENS:
                try:
                    if callable(comment):
                        comment(delivery.ref, text)
                    else:
                        citizen = server.accounts[1]
                        client.reply(delivery.ref.model_copy(update={"account": citizen}), text)
                    asked += 1
                except GovSocialError as error:
                    say(f"  {delivery.account}: no citizen reply here: {error}")
    deadline = time.monotonic() + 30
    items = []
    while time.monotonic() < deadline:  # an AppView indexes replies asynchronously
        ws.pull_inbox()
        items = ws.inbox()
        if len(items) >= asked:
            break
        time.sleep(1)
    for item in items:
        intent = (item.intent or "?").upper() if item.intent == "emergency" else item.intent
        say(f"  {item.account:<17} {intent or '?':<11} from {item.author}: {item.text[:50]}")
        if item.intent == "hoax_report":
            continue  # answered below, with the clarification
        answer = next((a for t, a in CITIZENS if a and t in item.text), CITIZENS[0][1])
        try:
            sent = ws.reply(item.id, answer or "Terima kasih!", by="siti")
            say(f"  {'':<17} siti answered: {sent.url or sent.id}")
        except GovSocialError as error:
            say(f"  {'':<17} could not answer: {error}")
    reports = [item for item in items if item.intent == "hoax_report"]
    if reports:
        _clarify(ws, reports, say)
    month = datetime.now(UTC).astimezone(ZoneInfo("Asia/Jakarta")).strftime("%Y-%m")
    rows = performance_rows(ws, month, "person")
    say(f"\nPerformance in {month} (from the audit log):")
    for person, row in rows.items():
        median = row["response_median_h"]
        response = (
            "-"
            if median is None
            else (f"{median * 3600:.0f} s" if median < 1 / 60 else f"{median * 60:.1f} min")
        )
        say(
            f"  {person:<13} posts={row['posts_published']} approved={row['drafts_approved']} "
            f"drafts={row['drafts_written']} replies={row['replies_sent']} "
            f"clarifications={row['clarifications']} median response={response}"
        )
    try:
        path = ws.performance_report(month).to_html(f"govsocial-demo-performance-{month}.html")
        say(f"  performance report (SKP evidence) written to {path.resolve()}")
    except ConfigurationError as error:
        say(f"  no performance report: {error}")
    return 0 if len(items) >= asked else 1


def _clarify(ws: Workspace, reports: list[Any], say: Callable[[str], None]) -> None:
    """siti publishes a hoax clarification on the accounts the reports came to, and answers
    each report with its link."""
    import asyncio
    from datetime import UTC, datetime, timedelta

    from govsocial.client import AsyncClient
    from govsocial.listening.clarification import clarification
    from govsocial.scheduling.worker import Worker

    post = clarification(
        claim="Pesan berantai: vaksinasi di Balai Kota berbayar Rp50.000",
        verdict="HOAKS",
        facts="Vaksinasi di Balai Kota gratis, tanpa biaya apa pun.",
        sources=["https://example.go.id/vaksinasi"],
    )
    accounts = sorted({item.account for item in reports})
    job = ws.schedule(post, accounts, at=datetime.now(UTC) + timedelta(seconds=1), by="siti")
    say(f"  siti publishes a clarification on {', '.join(accounts)}: {post.text.splitlines()[0]}")

    async def work() -> int:
        async with AsyncClient(**ws.core.client_options()) as client:
            return await Worker(ws, concurrency=10).run(
                client, stop=asyncio.Event(), until_idle=True, poll=0.2
            )

    asyncio.run(work())
    for item in reports:
        try:
            sent = ws.answer_with_clarification(item.id, job, by="siti")
            say(f"  {item.account:<17} answered with the clarification: {sent.url or sent.id}")
        except GovSocialError as error:
            say(f"  {item.account:<17} could not answer with the clarification: {error}")


def _watch_round(
    ws: Workspace, servers: dict[str, LocalServer], names: list[str], say: Callable[[str], None]
) -> int:
    """A citizen posts about a flood without mentioning the agency; siti's watch finds it."""
    say("\nWatching: a citizen posts about a flood without mentioning the agency:")
    text = "Air naik sepinggang di Jl. Merdeka, tolong! #BanjirSukamaju"
    with Client(max_wait=10.0) as client:
        for platform, server in servers.items():
            if len(server.accounts) < 2:
                continue
            [sent] = client.publish(Post(text), [server.accounts[1]])
            if sent.ok:
                say(f"  a citizen on {platform} posts: {text}")
    watch = ws.watch("banjir", query="#BanjirSukamaju", accounts=names, by="siti")
    say(f"  siti watches {watch.query} through {len(names)} accounts")
    searchable = {n for n in names if ws.account(n).platform in ("mastodon", "bluesky")}
    deadline = time.monotonic() + 30
    while True:  # an AppView indexes posts asynchronously
        done = ws.sync_watches()
        found = {p.account for p in ws.watched("banjir")}
        if searchable <= found or time.monotonic() > deadline:
            break
        time.sleep(1)
    for where, why in sorted(done.unsupported.items()):
        say(f"  {where.split('/', 1)[1]:<17} no search there: {why[:70]}...")
    for where, why in sorted(done.failed.items()):
        say(f"  {where.split('/', 1)[1]:<17} search failed: {why[:70]}")
    for post in ws.watched("banjir"):
        say(
            f"  {post.account:<17} found {post.author}: {post.text[:45]}  "
            f"-> {post.intent} ({post.classifier})"
        )
    return 1 if done.failed or not searchable <= found else 0


_DEMO_FEED = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel>
<title>GPR Komdigi (demo)</title><link>https://www.komdigi.go.id/</link>
<description>Konten Government Public Relations untuk dibagikan instansi</description>
<item>
<title>Bantuan pangan tahap II disalurkan mulai pekan depan</title>
<link>https://www.komdigi.go.id/berita/gpr/bantuan-pangan-tahap-ii</link>
<description><![CDATA[<p>Pemerintah menyalurkan <b>bantuan pangan</b> beras 10 kg
kepada 22 juta keluarga penerima.</p>]]></description>
<pubDate>Sun, 06 Dec 2026 01:00:00 +0700</pubDate>
</item>
</channel></rss>
"""


def _feed_round(ws: Workspace, names: list[str], say: Callable[[str], None]) -> int:
    """The central narrative: a GPR-like feed served here; its item becomes a draft awaiting
    approval on every account, once, however often the feed is read."""
    import os
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    body = _DEMO_FEED.encode()

    class Feed(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/rss+xml; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    say("\nThe central narrative: a GPR feed's new item becomes a draft awaiting approval:")
    server = ThreadingHTTPServer(("127.0.0.1", 0), Feed)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    # the feed is on this machine; feeds are otherwise read only from public addresses
    before = os.environ.get("GOVSOCIAL_MEDIA_ALLOW_NETS")
    os.environ["GOVSOCIAL_MEDIA_ALLOW_NETS"] = "127.0.0.0/8"
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/gpr.xml"
        ws.follow_feed(url, accounts=names, by="siti", name="gpr")
        say(f"  siti follows the GPR feed for {len(names)} account{'s' * (len(names) != 1)}")
        first = ws.sync_feeds()
        again = ws.sync_feeds()
    finally:
        server.shutdown()
        server.server_close()
        if before is None:
            os.environ.pop("GOVSOCIAL_MEDIA_ALLOW_NETS", None)
        else:
            os.environ["GOVSOCIAL_MEDIA_ALLOW_NETS"] = before
    for feed, why in sorted({**first.failed, **again.failed}.items()):
        say(f"  the feed {feed} failed: {why[:80]}")
    for draft_id in first.drafts.get("gpr", []):
        draft = ws.draft(draft_id)
        say(f"  draft {draft.id[:8]} ({draft.status}) by {draft.author}:")
        for line in draft.post.text.splitlines():
            if line.strip():
                say(f"    {line[:90]}")
    say(f"  read again: {again.total} new drafts (each item once)")
    return 1 if first.failed or again.failed or first.total != 1 or again.total else 0


def _appoint_team(ws: Workspace, names: list[str], say: Callable[[str], None]) -> None:
    """Two people, appointed by decree (SK) to every account of the demo."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    year = datetime.now(ZoneInfo("Asia/Jakarta")).year
    ws.add_person("siti", name="Siti Rahma", unit="Diskominfo")
    ws.add_person("budi", name="Budi Santoso", unit="Dinas Kesehatan")
    for person, role, number in (
        ("siti", "admin", 123),
        ("siti", "approver", 124),
        ("budi", "contributor", 125),
    ):
        decree = f"800/{number}/SK/{year}"
        ws.appoint(
            person,
            accounts=names,
            role=role,
            decree=decree,
            valid_from=f"{year}-01-01",
            valid_until=f"{year}-12-31",
        )
        say(f"  {person} appointed {role} of every account by decree {decree}")


def _audit_check(ws: Workspace, say: Callable[[str], None]) -> int:
    """Show the audit trail of the approved post and verify the whole hash chain."""
    from govsocial.core.errors import AuditTampered

    say("\nThe audit trail of the approved post (who, what, under which decree), hash-chained:")
    drafts = [d for d in ws.drafts() if d.job_id]
    objects = {d.id for d in drafts} | {d.job_id for d in drafts}
    shown: set[str] = set()
    for entry in ws.audit_log():
        related = entry.object in objects or entry.detail.get("job") in objects
        once = entry.action != "publish"  # one line per action, every publish
        if (related or entry.action.startswith("refused:")) and not (
            once and entry.action in shown
        ):
            shown.add(entry.action)
            say(f"  {entry.describe()}")
    try:
        count = ws.verify_audit()
    except AuditTampered as tampered:
        say(f"  AUDIT LOG TAMPERED: {tampered}")
        return 1
    head = ws.audit_head()
    say(f"  audit log verified: {count} entries, head {head.hash[:16] if head else '-'}...")
    return 0


def _measure_and_report(
    ws: Workspace, servers: dict[str, LocalServer], say: Callable[[str], None]
) -> int:
    """A citizen likes the campaign's first post; collect metrics; write the report."""
    from datetime import UTC, datetime
    from zoneinfo import ZoneInfo

    say("\nMetrics collected into the workspace, and the month's report:")
    for job in ws.jobs()[:1]:
        for delivery in job.deliveries:
            platform = ws.account(delivery.account).platform
            if delivery.ref is not None and platform in servers:
                servers[platform].like(delivery.ref, servers[platform].accounts[1])
    time.sleep(2)  # an AppView indexes likes asynchronously
    done = ws.pull_metrics()
    say(f"  {done.posts} post snapshots, {done.accounts} account snapshots")
    for name, reason in done.failed.items():
        say(f"  {name}: not collected: {reason}")
    try:
        month = datetime.now(UTC).astimezone(ZoneInfo("Asia/Jakarta")).strftime("%Y-%m")
        report = ws.report(month)
        path = report.to_html(f"govsocial-demo-report-{month}.html")
    except ConfigurationError as error:
        say(f"  no report: {error}")
        return 0
    say(f"  report written to {path.resolve()}")
    heard = report.listening
    if heard is not None:
        every = heard["all"]
        kinds = ", ".join(
            f"{row['messages']} {intent.replace('_', ' ')}"
            for intent, row in heard["by_intent"].items()
            if row["messages"]
        )
        median = every["median_response_h"]
        say(
            f"  what the public said: {every['messages']} messages ({kinds}), "
            f"{every['answered']} answered, median first answer "
            f"{'-' if median is None else f'{median * 3600:.0f} s'}"
        )
    return 1 if done.failed else 0


def _converse(
    client: Client, server: LocalServer, name: str, ref: PostRef, say: Callable[[str], None]
) -> None:
    citizen: Account = server.accounts[1]
    server.like(ref, citizen)
    text = "Apakah buka hari Sabtu?"
    comment = getattr(server, "comment", None)  # where only people, not accounts, comment
    if callable(comment):
        question = comment(ref, text)
        say(f"  {name:<9} question from a citizen: {question.url or question.id}")
    else:
        question = client.reply(ref.model_copy(update={"account": citizen}), text)
        say(f"  {name:<9} question from {citizen.handle}: {question.url or question.id}")
    replies = _wait_for(partial(client.fetch_replies, ref), timeout=20)
    if replies:
        answer = client.reply(replies[-1], "Ya, buka pukul 08.00-12.00 WIB. Terima kasih!")
        say(f"  {name:<9} answered: {answer.url or answer.id}")
    else:
        say(f"  {name:<9} the question has not reached the server's index yet")


def _show_metrics(
    client: Client, author: Account, name: str, ref: PostRef, say: Callable[[str], None]
) -> None:
    counts_likes = "likes" in default_plugins().platform(ref.platform).limits.post_metrics
    metrics = (counts_likes and _wait_for(partial(_liked, client, ref), timeout=20)) or (
        client.fetch_metrics([ref])
    )
    shown = ("likes", "reposts", "replies", "views")
    say(f"  {name:<9} " + " ".join(f"{f}={getattr(metrics[0], f)}" for f in shown))
    account = client.fetch_account_metrics(author)
    say(f"  {'':<9} {author.handle}: followers={account.followers} posts={account.posts}")


def _liked(client: Client, ref: PostRef) -> list[PostMetrics]:
    return [m for m in client.fetch_metrics([ref]) if m.likes]


def _wait_for(fetch: Callable[[], list[T]], *, timeout: float) -> list[T]:
    """Poll ``fetch`` until it returns a non-empty list (servers that index asynchronously)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            found = fetch()
        except Exception:  # noqa: BLE001 - the index may not know the post yet
            found = []
        if found or time.monotonic() > deadline:
            return list(found)
        time.sleep(0.5)
