"""Tests of the core stage."""
