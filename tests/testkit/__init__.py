"""Builders and helpers shared by the tests (importable as `testkit`)."""
