"""Steward."""
