"""govsocial's shared conformance suite, run against the Papan server this plugin ships.

Nothing else is needed: ``Papan.local_server()`` exists, so the suite's default fixture
starts the server, and every check runs against it.
"""

from govsocial.testing import PlatformConformance


class TestPapanConformance(PlatformConformance):
    platform = "papan"
