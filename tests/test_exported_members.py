"""Every public name is exported, and nothing private is."""

from __future__ import annotations

import subprocess
import sys

import govsocial


def test_all_is_complete_and_importable() -> None:
    public = {name for name in dir(govsocial) if not name.startswith("_")} | {"__version__"}
    assert set(govsocial.__all__) == public
    for name in govsocial.__all__:
        assert getattr(govsocial, name) is not None, name


def test_the_design_names_exist() -> None:
    for name in (
        "Post",
        "Media",
        "Account",
        "Client",
        "AsyncClient",
        "platforms",
        "validate",
        "hookimpl",
        "PublishResult",
        "PostRef",
        "count_characters",
    ):
        assert name in govsocial.__all__


def test_import_is_light() -> None:
    """``import govsocial`` must not pull in httpx, pydantic or any plugin."""
    code = (
        "import sys, govsocial; "
        "heavy = [m for m in ('httpx', 'pydantic', 'govsocial_mastodon', 'govsocial_bluesky', "
        "'pandas', 'matplotlib') if m in sys.modules]; print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
