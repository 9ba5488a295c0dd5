"""Datasets: the ``Dataset`` contract, the registry of loaders, the toy sets and MNIST.

=================  ==============================================================
module             holds
=================  ==============================================================
``dataset``        :class:`Dataset`, the contract every dataset meets
``registry``       :data:`DATASETS`, parameter checks, :func:`load_dataset`, :func:`dataset_info`
``toy``            the generated sets: xor, circle, gaussians, spiral, moons, letters, spam, sine
``idx``            :func:`read_idx`, the IDX file format MNIST is published in
``mnist``          MNIST from its four IDX files, and :func:`download_mnist`
=================  ==============================================================
"""

from .dataset import TASKS, Dataset, standardize_inputs
from .idx import read_idx
from .mnist import MNIST_SHA256, download_mnist
from .registry import DATASETS, DatasetSpec, dataset_info, load_dataset
from .toy import SPAM_THRESHOLD, SPAM_WEIGHTS

__all__ = [
    "TASKS", "Dataset", "standardize_inputs", "read_idx", "MNIST_SHA256", "download_mnist",
    "DATASETS", "DatasetSpec", "dataset_info", "load_dataset", "SPAM_THRESHOLD", "SPAM_WEIGHTS",
]
