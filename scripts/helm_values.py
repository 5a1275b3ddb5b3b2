"""Helm's merge of values files, shared by scripts/helm-render.py and scripts/ops-checks.py."""

from __future__ import annotations


def merge(base: dict, override: dict) -> dict:
    """Helm's merge of values files: maps merge deeply, anything else replaces, null deletes."""
    out = dict(base)
    for key, value in override.items():
        if value is None:
            out.pop(key, None)
        elif isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = value
    return out
