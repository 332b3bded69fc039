"""Fuzz every command of the command line with random arguments (issue 13, item 7).

The commands are found by walking the ``govsocial`` argument parser, so a new command is
fuzzed without a change here. Each run calls ``govsocial.cli.main`` in-process with a random
argument list, on a workspace made by ``govsocial init`` whose one account points at a
loopback server answering 401 (no request leaves the machine: any other host name is refused
before it is resolved). What must hold:

- the exit status is one the command line documents (0, 1, 2; 130 is for Ctrl-C) and no
  traceback is printed: only a GovSocialError (one ``govsocial: error:`` line) or an
  argparse usage error ends a command early;
- a ``--db`` that did not exist is not created, by any command but ``init``.

``demo`` is left out: it starts every local platform server, minutes per run, and takes no
argument but ``--platform`` (its own tests cover it).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import socket
import sys
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fuzz._depth import DEPTHS, scaled
from fuzz.strategies import hostile_text, nasty
from govsocial.cli import build_parser, main
from govsocial.testing import tiny_png

#: commands not fuzzed, and why
LEFT_OUT = {("demo",): "starts every local platform server; covered by its own tests"}
#: the exit statuses docs/cli.md documents
DOCUMENTED = {0, 1, 2, 130}


def leaves(
    parser: argparse.ArgumentParser, words: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], argparse.ArgumentParser]]:
    """Every runnable command of ``parser``: its words (``("accounts", "import")``) and parser."""
    groups = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not groups:
        yield words, parser
    for group in groups:
        for name, sub in group.choices.items():
            yield from leaves(sub, (*words, name))


COMMANDS = {
    words: parser for words, parser in leaves(build_parser()) if words and words not in LEFT_OUT
}


class _Refuses(BaseHTTPRequestHandler):
    """A platform that refuses every token at once (401, not retried)."""

    def _answer(self) -> None:
        body = b'{"error": "The access token is invalid"}'
        self.send_response(401)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_PUT = do_DELETE = _answer

    def log_message(self, *args: Any) -> None:
        pass


@dataclass
class Place:
    """The temporary world a command runs in."""

    root: Path
    db: Path
    files: list[str]  # what a FILE, PATH, directory or URL argument may name

    def missing_db(self) -> Path:
        """A path where no workspace is, nor ever was."""
        return self.root / f"missing-{uuid.uuid4().hex}.db"


@pytest.fixture(scope="module")
def place(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Place]:
    root = tmp_path_factory.mktemp("cli-fuzz")
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Refuses)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    port = server.server_address[1]
    accounts = root / "accounts.toml"
    accounts.write_text(
        "[humas]\n"
        'platform = "mastodon"\n'
        'handle = "@humas@127.0.0.1"\n'
        f'base_url = "http://127.0.0.1:{port}"\n'
        'credentials = { access_token = "env:HUMAS_FUZZ_TOKEN" }\n',
        encoding="utf-8",
    )
    (root / "not-utf8.toml").write_bytes(b'[humas]\nplatform = "\xff\xfe"\n')
    (root / "poster.png").write_bytes(tiny_png())
    (root / "notes.txt").write_text("not an image", encoding="utf-8")
    (root / "archive").mkdir()
    db = root / "ws.db"
    with _world(root):
        assert main(["--db", str(db), "init"]) == 0
        assert main(["--db", str(db), "accounts", "import", str(accounts)]) == 0
        assert main(["--db", str(db), "people", "add", "budi", "--name", "Budi"]) == 0
    files = [
        str(accounts),
        str(root / "not-utf8.toml"),
        str(root / "poster.png"),
        str(root / "notes.txt"),
        str(root / "archive"),
        str(root / "out.html"),
        str(root / "nowhere" / "deeper" / "x"),
        str(db),
        "-",
    ]
    try:
        yield Place(root=root, db=db, files=files)
    finally:
        server.shutdown()
        server.server_close()


_real_getaddrinfo = socket.getaddrinfo


def _loopback_only(host: Any, *args: Any, **kwargs: Any) -> Any:
    if host not in ("127.0.0.1", "localhost", "::1", b"127.0.0.1", b"localhost"):
        raise socket.gaierror(socket.EAI_NONAME, f"the fuzz suite resolves no host ({host!r})")
    return _real_getaddrinfo(host, *args, **kwargs)


@contextlib.contextmanager
def _world(root: Path, stdin: str = "") -> Iterator[tuple[io.StringIO, io.StringIO]]:
    """Run in ``root`` with no network, ``stdin`` as standard input, output captured."""
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(root)
        patch.setenv("HUMAS_FUZZ_TOKEN", "fuzz-token-not-a-secret")
        patch.setenv("GOVSOCIAL_DB", str(root / "default-missing.db"))
        patch.delenv("GOVSOCIAL_ACTOR", raising=False)
        patch.setattr(socket, "getaddrinfo", _loopback_only)
        patch.setattr(sys, "stdin", io.StringIO(stdin))
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            yield out, err


#: values that mean something to some command, so the fuzzer gets past the first check
MEANINGFUL = [
    "humas",
    "budi",
    "ani",
    "admin",
    "approver",
    "2026-12-01T09:00+07:00",
    "2099-01-01T00:00Z",
    "2020-01-01T00:00+07:00",
    "9999-12-31T23:59+14:00",
    "0001-01-01T00:00-12:00",
    "2026-01",
    "2026-W01",
    "2026-Q1",
    "FREQ=DAILY",
    "FREQ=SECONDLY",
    "FREQ=WEEKLY;BYDAY=MO;COUNT=2",
    "Mon-Fri 08:00-16:00",
    "Asia/Jakarta",
    "Mars/Olympus",
    "SK-1/2026",
    "id",
    "0",
    "-1",
    "1e308",
    "nan",
    "inf",
    "7",
    "SEQ:HASH",
    "1:" + "0" * 64,
    "paper",
    "mastodon",
    "x",
]


def _value(action: argparse.Action, place: Place) -> st.SearchStrategy[str]:
    names = {action.dest, str(action.metavar or "").lower()}
    if names & {"file", "image", "directory", "output", "url", "path", "accounts"}:
        return st.sampled_from(place.files)
    choices = [str(c) for c in action.choices] if action.choices else []
    plausible = st.sampled_from(choices) if choices else st.sampled_from(MEANINGFUL)
    return st.one_of(plausible, plausible, nasty(), hostile_text(24))


@st.composite
def command_lines(draw: st.DrawFn, place: Place) -> tuple[tuple[str, ...], list[str], str]:
    """(command words, the whole argument list, standard input)."""
    words = draw(st.sampled_from(sorted(COMMANDS)))
    parser = COMMANDS[words]
    argv: list[str] = []
    positionals: list[str] = []
    for action in parser._actions:
        if isinstance(action, argparse._HelpAction):
            if draw(st.integers(0, 40)) == 0:
                argv.append("--help")
            continue
        if action.option_strings:
            wanted = action.required or (words == ("worker",) and action.dest == "until_idle")
            if not wanted and not draw(st.booleans()):
                continue
            if action.required and draw(st.integers(0, 15)) == 0:
                continue  # a required option left out: a usage error
            flag = draw(st.sampled_from(action.option_strings))
            if action.nargs == 0:
                argv.append(flag)
            else:
                for _ in range(
                    draw(st.integers(1, 2)) if isinstance(action, argparse._AppendAction) else 1
                ):
                    argv += [flag, draw(_value(action, place))]
        elif action.nargs == "?" and draw(st.booleans()):
            continue
        else:
            positionals.append(draw(_value(action, place)))
    if positionals and draw(st.booleans()):
        argv.append("--")  # a positional may start with "-"; after "--" it is still itself
    argv += positionals
    db = draw(st.sampled_from([str(place.db), str(place.missing_db())]))
    stdin = draw(st.one_of(st.just(""), hostile_text()))
    return words, ["--db", db, *words, *argv], stdin


def run(place: Place, argv: list[str], stdin: str = "") -> tuple[int, str, str]:
    """``govsocial argv`` in-process: (exit status, stdout, stderr)."""
    with _world(place.root, stdin) as (out, err):
        try:
            status = main(argv)
        except SystemExit as stop:  # argparse: --help (0) or a usage error (2)
            status = stop.code if isinstance(stop.code, int) else 2
    return status, out.getvalue(), err.getvalue()


def test_every_command_is_found_by_walking_the_parser() -> None:
    """The walk finds nested commands and every built-in top-level one."""
    assert ("accounts", "import") in COMMANDS and ("inbox", "sync") in COMMANDS
    top = {words[0] for words in COMMANDS} | {w[0] for w in LEFT_OUT}
    parser = build_parser()
    [group] = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    assert top == set(group.choices)


@pytest.mark.parametrize("depth", DEPTHS)
def test_every_command_exits_with_a_documented_status_and_creates_no_workspace(
    depth: settings, place: Place
) -> None:
    @scaled(depth, 8)
    @given(st.data())
    def check(data: st.DataObject) -> None:
        words, argv, stdin = data.draw(command_lines(place))
        missing = Path(argv[1]) if argv[1] != str(place.db) else None
        assert missing is None or not missing.exists()
        status, out, err = run(place, argv, stdin)
        assert status in DOCUMENTED, (status, err)
        assert "Traceback" not in err and "Traceback" not in out
        if missing is not None and words != ("init",):
            assert not missing.exists(), f"{' '.join(words)} created {missing}"

    check()
