"""Tests of the handbook tooling."""
