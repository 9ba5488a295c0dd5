"""A multi-layer perceptron written from first principles in NumPy.

Everything a notebook user needs is importable from here::

    from mlp_engine import MLP, ModelConfig, LayerSpec, TrainConfig, train, load_dataset
"""

from .activations import ACTIVATIONS
from .datasets import DATASETS, Dataset, dataset_info, download_mnist, load_dataset
from .experiment import PRESETS, Experiment, preset
from .gradcheck import gradient_check
from .inspection import evaluate_confusion, trace_example
from .losses import HEAD_FOR_TASK, HEADS
from .model import MLP, LayerSpec, ModelConfig
from .optimizers import OPTIMIZERS, make_optimizer
from .schedules import SCHEDULES, make_schedule
from .serialization import ModelFileError, load_checkpoint, load_model, model_from_zip, model_to_zip, save_checkpoint, save_model
from .metrics import evaluate
from .train_config import OptimizerConfig, ScheduleConfig, TrainConfig
from .trainer import Trainer, TrainResult, train

__all__ = [
    "ACTIVATIONS", "HEADS", "HEAD_FOR_TASK", "OPTIMIZERS", "SCHEDULES",
    "MLP", "LayerSpec", "ModelConfig", "OptimizerConfig", "ScheduleConfig", "TrainConfig",
    "Trainer", "TrainResult", "train", "evaluate", "gradient_check",
    "make_optimizer", "make_schedule",
    "save_model", "load_model", "model_to_zip", "model_from_zip", "save_checkpoint", "load_checkpoint",
    "ModelFileError", "DATASETS", "Dataset", "dataset_info", "download_mnist", "load_dataset",
    "Experiment", "PRESETS", "preset",
    "trace_example", "evaluate_confusion",
]
