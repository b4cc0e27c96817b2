"""Tests of the mart stage."""
