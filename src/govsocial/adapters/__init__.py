"""Layer 1, the adapter SDK: what a platform plugin is written against.

:mod:`govsocial.adapters.platform` (``Platform``, ``Limits``), the HTTP layer
(:mod:`~govsocial.adapters.http`, :mod:`~govsocial.adapters.transport`), answer parsing
(:mod:`~govsocial.adapters.answers`), checkpoints and media hosts. It imports only the core.
"""
