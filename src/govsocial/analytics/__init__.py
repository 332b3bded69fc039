"""Layer 6, analytics: metrics collection, frames, summaries, charts, reports and the archive.

Read-only over everything below. pandas and matplotlib load only here, behind the
``notebook`` extra.
"""
