"""`govsocial platforms` names a plugin that failed to load, as docs/plugins.md promises."""

from __future__ import annotations

from importlib import metadata

import pytest

from govsocial.cli import main
from govsocial.plugin.manager import PluginWarning, reset_default_plugins


class BrokenEntryPoint:
    """An installed plugin whose import fails (a name its SDK does not export)."""

    name = "kabar"
    dist = type("Dist", (), {"name": "govsocial-kabar", "version": "0.1.0"})()

    def load(self) -> object:
        raise ImportError("cannot import name 'Nope' from 'govsocial.adapters'")


def test_a_plugin_that_failed_to_load_is_named_and_the_command_fails(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def entry_points(group: str) -> list[BrokenEntryPoint]:
        return [BrokenEntryPoint()] if group == "govsocial" else []

    monkeypatch.setattr(metadata, "entry_points", entry_points)
    monkeypatch.delenv("GOVSOCIAL_LOAD_PLUGINS", raising=False)
    reset_default_plugins(None)
    try:
        with pytest.warns(PluginWarning, match="kabar"):
            status = main(["platforms"])
    finally:
        reset_default_plugins(None)
    out, err = capsys.readouterr()
    assert status == 1
    assert "plugin kabar failed to load: ImportError: cannot import name 'Nope'" in err
    assert "kabar failed" in out and "No platform adapters installed" not in out
