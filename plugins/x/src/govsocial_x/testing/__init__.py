"""Test helpers of the X plugin: a stateful emulator of the X API v2, and Prism in front of it.

For the plugin's own tests and for anyone testing code that publishes to X: import them
like any module (``from govsocial_x.testing import Emulator``). Serve the emulator's
``app()`` with the ``emulators`` fixture of govsocial's pytest plugin (or with
:func:`govsocial.testing.emulator.serve`) and set its ``base_url``. Prism needs Node.js and
the npm tree of the plugin's ``tests/node``.
"""

from govsocial_x.testing.emulator import DUPLICATE, REPLY_REFUSED, Emulator
from govsocial_x.testing.prism import prism_proxy, spec_path

__all__ = ["DUPLICATE", "REPLY_REFUSED", "Emulator", "prism_proxy", "spec_path"]
