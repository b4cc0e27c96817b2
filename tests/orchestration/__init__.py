"""Tests of the Dagster layer: assets, checks, jobs, schedule and sensor."""
