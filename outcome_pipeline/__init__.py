"""outcome_pipeline: what customers actually got, beside what the contact center produced."""

__version__ = "0.1.0"
