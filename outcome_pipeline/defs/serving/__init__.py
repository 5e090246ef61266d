"""Dagster wiring of BI serving: the ``bi_views`` asset (see ``outcome_pipeline/serving``)."""
