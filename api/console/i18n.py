"""UI text in Simplified Chinese by default, English on request: one catalogue, messages/*.yaml.

A page asks for text by key (`_('login.title')` in templates, t() in views); a key missing from
the catalogue shows itself, and a test keeps every key used by a template present in both
languages.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import yaml
from flask import Flask, has_request_context, session

# One file per page family (base, alerts, rules, dashboards…); a key may be defined only once.
CATALOGUE = Path(__file__).with_name("messages")
LANGUAGES = ("zh", "en")
DEFAULT = "zh"


@functools.cache
def catalogue() -> dict[str, dict[str, str]]:
    merged: dict[str, dict[str, str]] = {}
    for path in sorted(CATALOGUE.glob("*.yaml")):
        part = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        clash = merged.keys() & part.keys()
        if clash:
            raise ValueError(f"{path.name}: {', '.join(sorted(clash))} defined twice")
        merged.update(part)
    return merged


def language() -> str:
    if has_request_context():
        lang = session.get("lang")
        if lang in LANGUAGES:
            return str(lang)
    return DEFAULT


def t(key: str, **values: Any) -> str:
    entry = catalogue().get(key)
    text = key if entry is None else entry.get(language()) or entry.get(DEFAULT) or key
    return text.format(**values) if values else text


def init_app(app: Flask) -> None:
    app.jinja_env.globals.update(_=t, current_language=language)
