"""Tests of the schedule, sensors, jobs and retries (outcome_pipeline/defs/automation)."""
