"""Layer 0, the core: errors, models, text counting and time. Imports nothing else of govsocial.

Everything above builds on these: the error tree every failure derives from
(:mod:`govsocial.core.errors`), the posts, accounts and results a user handles
(:mod:`govsocial.core.models`), grapheme and URL counting (:mod:`govsocial.core.text`) and
the clock, zones and recurrences (:mod:`govsocial.core.timing`).
"""
