"""Lint rules, one small class per rule."""
