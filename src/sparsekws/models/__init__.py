"""Quantised networks and their sparse building blocks."""
