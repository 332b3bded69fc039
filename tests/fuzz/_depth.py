"""How hard the fuzz suite tries: a quick depth in every run, a deep one marked slow.

Every fuzz test is parametrized over :data:`DEPTHS` and builds its hypothesis test inside,
under the depth's settings, so the same properties run in two ways:

- ``quick`` (the normal ``-m "not slow"`` run): few examples, derandomized, so a run is
  repeatable and the whole suite stays under a minute on two cores;
- ``deep`` (marked ``fuzz_deep``, which the default run deselects: pyproject's ``addopts``):
  many more examples from a random seed, each run exploring new ground, for a fuzzing
  session rather than CI (a random find must not decide whether a change lands, and 1,000
  examples per property take long): ``pytest -m fuzz_deep tests/fuzz``, with
  ``GOVSOCIAL_FUZZ_EXAMPLES=N`` for how many.

Neither keeps an example database: an input the fuzzer once found is pinned in the test
with ``@example``, next to the fix, so it runs in every run forever.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, settings

__all__ = ["DEPTHS", "scaled"]

_COMMON = {
    "deadline": None,  # two shared cores: time is not what is being tested
    "database": None,
    "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large],
}

QUICK = settings(max_examples=30, derandomize=True, **_COMMON)  # type: ignore[arg-type]
DEEP = settings(
    max_examples=int(os.environ.get("GOVSOCIAL_FUZZ_EXAMPLES", "1000")),
    derandomize=False,
    **_COMMON,  # type: ignore[arg-type]
)

#: the two depths, as a parameter of each fuzz test
DEPTHS = [
    pytest.param(QUICK, id="quick"),
    pytest.param(DEEP, id="deep", marks=[pytest.mark.slow, pytest.mark.fuzz_deep]),
]


def scaled(depth: settings, factor: float) -> settings:
    """``depth`` with ``factor`` times its examples: for tests whose examples are dear (a
    whole command line, a workspace) or cheap (a model)."""
    return settings(depth, max_examples=max(1, int(depth.max_examples * factor)))
