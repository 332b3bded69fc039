"""`govsocial demo`, run as a user runs it: a subprocess against real local servers."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest


def run_demo(*platforms: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    args = [sys.executable, "-m", "govsocial.cli", "demo"]
    for platform in platforms:
        args += ["-p", platform]
    return subprocess.run(
        args, capture_output=True, text=True, timeout=600, env=os.environ.copy(), cwd=cwd
    )


def test_demo_on_mastodon(tmp_path: Path) -> None:
    pytest.importorskip("govsocial_mastodon")
    done = run_demo("mastodon", cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    assert "mastodon  published" in out
    assert "alt: ['Poster biru-hijau" in out  # read back from the server
    assert "answered:" in out
    assert "likes=1" in out
    assert out.rstrip().endswith("Done.")
    [report] = tmp_path.glob("govsocial-demo-report-*.html")
    assert "Ringkasan per platform" in report.read_text(encoding="utf-8")
    assert "budi tries to schedule it himself: refused" in out
    assert "siti (approver) approves it: scheduled" in out
    assert "siti answered:" in out  # from the inbox
    assert "audit log verified:" in out
    assert "siti watches #BanjirSukamaju" in out
    assert "found" in out and "Air naik sepinggang" in out and "-> emergency" in out
    [performance] = tmp_path.glob("govsocial-demo-performance-*.html")
    page = performance.read_text(encoding="utf-8")
    assert "Kinerja pengelola media sosial" in page and "siti" in page
    # the inbox classified what citizens wrote; the hoax report got the clarification's link
    assert "humas-mastodon    complaint   from" in out
    assert "humas-mastodon    hoax_report from" in out
    assert "siti publishes a clarification on humas-mastodon: [HOAKS]" in out
    assert "humas-mastodon    answered with the clarification: http" in out
    assert "clarifications=2" in out  # the clarification published and the answer with it
    assert "3 messages (1 question, 1 complaint, 1 hoax report), 3 answered" in out
    assert "Suara publik" in report.read_text(encoding="utf-8")
    assert "Klarifikasi hoaks per label" in page
    assert "siti follows the GPR feed for 1 account\n" in out
    assert "(pending) by siti:" in out  # the feed's item, a draft awaiting approval
    assert "Sumber: GPR Komdigi (demo) https://www.komdigi.go.id/berita/gpr/" in out
    assert "read again: 0 new drafts (each item once)" in out


@pytest.mark.slow
def test_demo_on_every_platform(tmp_path: Path) -> None:
    pytest.importorskip("govsocial_bluesky")
    done = run_demo(cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    for name in ("bluesky", "mastodon"):
        assert f"{name:<9} published" in done.stdout
        assert f"{name:<9} answered:" in done.stdout
        assert f"humas-{name:<11} answered with the clarification: http" in done.stdout
    assert done.stdout.rstrip().endswith("Done.")
