"""The wheel carries the pages' templates and static files (htmx and its licence included)."""

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from app.web.render import HERE


@pytest.mark.slow
def test_the_wheel_ships_every_template_and_static_file(tmp_path: Path, project_root: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
         "-w", str(tmp_path), str(project_root)],
        check=True,
        timeout=300,
        capture_output=True,
    )  # fmt: skip
    names = set(zipfile.ZipFile(next(tmp_path.glob("callpledge-*.whl"))).namelist())
    shipped = {
        f"app/web/{path.relative_to(HERE).as_posix()}"
        for folder in ("templates", "static")
        for path in (HERE / folder).iterdir()
    }
    assert {"app/web/static/htmx.min.js", "app/web/static/htmx.LICENSE"} <= shipped
    assert "app/web/templates/badge.svg" in shipped
    assert shipped <= names
