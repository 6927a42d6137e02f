"""Pydantic models: the language every part of the workbench speaks. Imports nothing of ours."""
