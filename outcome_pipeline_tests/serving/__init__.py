"""Tests of BI serving: the published DuckDB copy and the BI views."""
