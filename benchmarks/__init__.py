"""Whole-process and in-process benchmarks, each against a baseline measured in the same run."""
