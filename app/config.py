"""All settings, read once from the environment (prefix ``MLP_``, e.g. ``MLP_DATA_DIR``).

Every field is documented in the README's settings table (a test checks it).
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from mlp_engine.serialization import ModelLimits

REPO_ROOT = Path(__file__).resolve().parent.parent


def _default_mnist_dir() -> Path | None:
    shared = REPO_ROOT.parent / "shared" / "data" / "mnist"
    return shared if shared.is_dir() else None


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MLP_")

    data_dir: Path = Field(REPO_ROOT / "data", description="SQLite database, models and checkpoints live here.")
    mnist_dir: Path | None = Field(
        default_factory=_default_mnist_dir,
        description="Folder with the four MNIST IDX .gz files (default ../shared/data/mnist when it exists).",
    )
    max_concurrent_runs: int = Field(2, ge=1, description="Runs that train at once; the rest wait in the queue.")
    max_queued_runs: int = Field(16, ge=0, description="Runs that may wait in the queue before new ones are refused.")
    max_hidden_layers: int = Field(8, ge=1, description="Hidden layers per network.")
    max_units: int = Field(4096, ge=1, description="Units per hidden layer.")
    max_epochs: int = Field(1000, ge=1, description="Epochs per run.")
    max_batch_size: int = Field(8192, ge=1, description="Mini-batch size.")
    max_upload_bytes: int = Field(32 * 2**20, ge=1024, description="Size of an imported model or uploaded image.")
    max_body_bytes: int = Field(8 * 2**20, ge=1024, description="Size of a JSON request body (413 past it).")
    max_predict_rows: int = Field(1024, ge=1, description="Examples in one predict request.")
    heartbeat_seconds: float = Field(15.0, gt=0, description="Seconds between SSE heartbeat comments on idle streams.")
    progress_interval: float = Field(0.1, gt=0, description="Least seconds between two progress events of a run.")

    def model_limits(self) -> ModelLimits:
        """What an imported model may declare: the network limits of a run, for every layer."""
        return ModelLimits(max_hidden_layers=self.max_hidden_layers, max_units=self.max_units)
