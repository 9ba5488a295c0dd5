"""All settings, read once from the environment (prefix ``MLP_``)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parent.parent


def _default_mnist_dir() -> Path | None:
    shared = REPO_ROOT.parent / "shared" / "data" / "mnist"
    return shared if shared.is_dir() else None


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MLP_")

    data_dir: Path = Field(REPO_ROOT / "data", description="Where the SQLite database, models and checkpoints live.")
    mnist_dir: Path | None = Field(
        default_factory=_default_mnist_dir,
        description="Folder with the four MNIST IDX .gz files (default ../shared/data/mnist when it exists).",
    )


settings = Settings()
