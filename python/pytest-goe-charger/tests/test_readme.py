"""The README's example test is tests/test_readme_example.py, verbatim: this
suite runs that file, and this test keeps the README's copies identical."""

import re
from pathlib import Path

HERE = Path(__file__).resolve().parent
EXAMPLE = (HERE / "test_readme_example.py").read_text()
PACKAGE_README = HERE.parent / "README.md"
# the workspace README (python/pytest-goe-charger/tests -> the repository root)
WORKSPACE_README = HERE.parents[2] / "README.md"


def python_blocks(text: str) -> list:
    return [m.group(1) for m in re.finditer(r"```python\n(.*?)```", text, re.S)]


def test_the_example_has_at_most_ten_lines_of_test() -> None:
    body = EXAMPLE.split("\n\n\n", 1)[1].strip().splitlines()
    assert len(body) <= 10, body


def test_the_package_readme_shows_the_example_verbatim() -> None:
    assert EXAMPLE in python_blocks(PACKAGE_README.read_text())


def test_the_workspace_readme_shows_the_example_verbatim() -> None:
    assert EXAMPLE in python_blocks(WORKSPACE_README.read_text())
