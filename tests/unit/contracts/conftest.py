"""Shared fixtures for the event-contract tests: the committed catalogue and the registered types."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from helpdesk_contracts.catalogue import example_envelope
from helpdesk_contracts.events import EVENT_TYPES, EventType

COMMITTED_CATALOGUE = Path(__file__).resolve().parents[3] / "docs" / "events"

_JSON_BLOCK = re.compile(r"^```json\n(.*?)\n```$", re.MULTILINE | re.DOTALL)
_PYTHON_BLOCK = re.compile(r"^```python\n(.*?)\n```$", re.MULTILINE | re.DOTALL)


def spec_id(spec: EventType) -> str:
    """Name a parametrized case after the event type and version."""
    return f"{spec.name}-v{spec.version}"


every_event_type = pytest.mark.parametrize("spec", EVENT_TYPES, ids=spec_id)


def json_blocks(markdown: str) -> list[Any]:
    """Return every fenced ```json block of a Markdown text, parsed."""
    return [json.loads(block) for block in _JSON_BLOCK.findall(markdown)]


def python_blocks(markdown: str) -> list[str]:
    """Return the source of every fenced ```python block of a Markdown text."""
    return _PYTHON_BLOCK.findall(markdown)


@pytest.fixture(scope="session")
def catalogue_readme() -> str:
    return (COMMITTED_CATALOGUE / "README.md").read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def readme_examples(catalogue_readme: str) -> dict[tuple[str, int], dict[str, Any]]:
    return {(block["type"], block["version"]): block for block in json_blocks(catalogue_readme)}


@pytest.fixture(scope="session")
def asyncapi() -> dict[str, Any]:
    return yaml.safe_load((COMMITTED_CATALOGUE / "asyncapi.yaml").read_text(encoding="utf-8"))


@pytest.fixture
def valid_envelope() -> dict[str, Any]:
    """A known-good wire envelope; tests break one thing in it."""
    return example_envelope(EVENT_TYPES[0])
