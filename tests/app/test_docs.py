"""The README documents every setting and the commands CI runs."""

from pathlib import Path

from app.config import Settings

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_every_setting_is_in_the_readme():
    readme = (REPO_ROOT / "README.md").read_text()
    missing = [f"MLP_{name.upper()}" for name in Settings.model_fields if f"MLP_{name.upper()}" not in readme]
    assert not missing, f"document these settings in the README: {missing}"


def test_ci_runs_the_readme_test_command():
    assert "make test" in (REPO_ROOT / ".ci" / "run").read_text()
    assert "make test" in (REPO_ROOT / "README.md").read_text()
