"""Tests of the raw stage."""
