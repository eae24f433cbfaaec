"""Shared fixtures for the execution core: temp copies of the fixture site, run or not."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from llmdocs.project import Project
from llmdocs.runner import RunSummary, run_chapters

FIXTURES = Path(__file__).parent / "fixtures"


def copy_fixture_site(destination: Path) -> Project:
    """Copy tests/fixtures/site (without stored outputs) to ``destination``; its Project."""
    shutil.copytree(
        FIXTURES / "site", destination, dirs_exist_ok=True,
        ignore=shutil.ignore_patterns("outputs", "__pycache__"),
    )
    return Project(destination)


@pytest.fixture
def fixture_project(tmp_path: Path) -> Project:
    """A fresh copy of the fixture site (snippets/basics.py, nothing stored yet)."""
    return copy_fixture_site(tmp_path)


@pytest.fixture(scope="session")
def executed_fixture_project(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Project, RunSummary]:
    """The fixture site after one `run_chapters` on CPU, shared by the session: read only."""
    project = copy_fixture_site(tmp_path_factory.mktemp("executed-site"))
    summary = run_chapters(project, device="cpu")
    return project, summary
