"""Automation: the nightly schedule, the late-file and restatement sensors, their jobs, and
the retry policy for transient warehouse errors.

Pure decisions (which days a tick or a late file targets, what counts as a late file) live in
``planning`` and ``landing_watch`` without Dagster imports; the other modules wire them.
"""
