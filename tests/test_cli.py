"""The command line, run as a user would: a real subprocess where it matters."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from govsocial.cli import main
from govsocial.plugin.manager import Plugins


def test_version() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "govsocial.cli", "--version"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.startswith("govsocial 0.")


def test_platforms_lists_the_fake(plugins: Plugins, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["platforms", "--json"]) == 0
    [row] = json.loads(capsys.readouterr().out)
    assert row["name"] == "paper"
    assert "20 chars" in row["limits"]


def test_validate_exit_codes(plugins: Plugins, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", "Halo", "-p", "paper"]) == 0
    assert "OK for paper" in capsys.readouterr().out
    assert main(["validate", "x" * 25, "-p", "paper"]) == 1
    assert "limit is 20" in capsys.readouterr().out


def test_validate_unknown_platform_is_a_usage_error(
    plugins: Plugins, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["validate", "Halo", "-p", "friendster"]) == 2
    assert "unknown platform 'friendster'" in capsys.readouterr().err


def test_validate_with_an_unreadable_image(
    plugins: Plugins, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert (
        main(["validate", "Halo", "-p", "paper", "--image", str(tmp_path / "no.png"), "--json"])
        == 1
    )
    [problem] = json.loads(capsys.readouterr().out)
    assert problem["code"] == "unreadable_media"


def test_publish_needs_a_readable_accounts_file(
    plugins: Plugins, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert main(["publish", "Halo", "--accounts", str(tmp_path / "none.toml")]) == 2
    assert "cannot read accounts file" in capsys.readouterr().err


def test_publish_names_an_unknown_account(
    plugins: Plugins, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "accounts.toml"
    path.write_text(
        '[humas]\nplatform = "paper"\nhandle = "@humas"\nbase_url = "https://paper.test"\n'
        'credentials = { access_token = "env:NOPE" }\n'
    )
    assert main(["publish", "Halo", "--accounts", str(path), "--to", "humas-x"]) == 2
    assert "no account named humas-x" in capsys.readouterr().err


def test_publish_reports_a_missing_secret_per_account(
    plugins: Plugins, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "accounts.toml"
    path.write_text(
        '[humas]\nplatform = "paper"\nhandle = "@humas"\nbase_url = "https://paper.test"\n'
        'credentials = { access_token = "env:GOVSOCIAL_CRED_TEST_UNSET" }\n'
    )
    assert main(["publish", "Halo", "--accounts", str(path)]) == 1
    assert "GOVSOCIAL_CRED_TEST_UNSET, which is not set" in capsys.readouterr().out


def test_no_command_prints_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    assert "platforms" in capsys.readouterr().out


def test_docs_platforms_table_matches_the_adapters() -> None:
    """docs/platforms.md holds the generated table of the in-tree adapters, unchanged."""
    for name in IN_TREE:
        pytest.importorskip(f"govsocial_{name}")
    from govsocial.cli.platform_table import platforms_markdown
    from govsocial.plugin.manager import Plugins

    page = (Path(__file__).resolve().parent.parent / "docs" / "platforms.md").read_text()
    start = page.index("<!-- platforms-table:start -->\n") + len("<!-- platforms-table:start -->\n")
    table = page[start : page.index("<!-- platforms-table:end -->")]
    in_tree = Plugins(only=IN_TREE).platforms()
    assert table == platforms_markdown(in_tree), (
        "docs/platforms.md is out of date: regenerate it with "
        f"GOVSOCIAL_LOAD_PLUGINS={','.join(IN_TREE)} govsocial platforms --markdown"
    )


IN_TREE = [
    "mastodon",
    "bluesky",
    "x",
    "facebook",
    "instagram",
    "threads",
    "linkedin",
    "telegram",
    "tiktok",
    "youtube",
]


def test_every_in_tree_platform_has_a_set_up_page_linked_from_the_table_page() -> None:
    docs = Path(__file__).resolve().parent.parent / "docs"
    page = (docs / "platforms.md").read_text()
    for name in IN_TREE:
        assert (docs / "platforms" / f"{name}.md").is_file(), f"docs/platforms/{name}.md"
        assert f"(platforms/{name}.md)" in page, f"docs/platforms.md does not link {name}"
