"""The toy sets: small 2-D and tabular problems generated from a seeded ``rng``.

Each generator takes ``rng: np.random.Generator`` and its parameters (the registry in
:mod:`.registry` checks them first) and returns the fields of a :class:`~.dataset.Dataset`
except its name, task and description, which the registry adds. The same ``rng`` state
and parameters give identical arrays.
"""

from __future__ import annotations

import numpy as np

from .dataset import DatasetFields


def _split(
    X: np.ndarray,
    y: np.ndarray,
    *,
    classes: tuple[str, ...],
    test_fraction: float,
    rng: np.random.Generator,
    feature_names: tuple[str, ...] = ("x1", "x2"),
) -> DatasetFields:
    """Shuffle ``X: (N, D) float32`` and ``y`` and cut off ``round(N * test_fraction)`` test rows.

    Both parts keep at least one row.
    """
    n = len(X)
    n_test = min(max(round(n * test_fraction), 1), n - 1)
    order = rng.permutation(n)
    test, train = order[:n_test], order[n_test:]
    return dict(
        X_train=X[train],
        y_train=y[train],
        X_test=X[test],
        y_test=y[test],
        classes=classes,
        input_shape=(X.shape[1],),
        feature_names=feature_names,
    )


def xor(rng: np.random.Generator) -> DatasetFields:
    """The four XOR points; train and test are the same arrays (``rng`` is unused: nothing is random)."""
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)  # (4, 2)
    y = np.array([0, 1, 1, 0], dtype=np.int64)
    return dict(
        X_train=X, y_train=y, X_test=X, y_test=y,
        classes=("0", "1"), input_shape=(2,), feature_names=("x1", "x2"),
    )


def letters(rng: np.random.Generator) -> DatasetFields:
    """26 one-hot rows, row ``k`` labelled ``k``.

    Train and test are the same arrays; ``rng`` is unused, as nothing is random.
    """
    names = tuple(chr(ord("A") + k) for k in range(26))
    X = np.eye(26, dtype=np.float32)  # (26, 26)
    y = np.arange(26, dtype=np.int64)
    return dict(
        X_train=X, y_train=y, X_test=X, y_test=y,
        classes=names, input_shape=(26,), feature_names=names,
    )


def circle(rng: np.random.Generator, *, n_samples: int, noise: float, test_fraction: float) -> DatasetFields:
    """Half the points in the disc r < 0.5 (label 1), half in the ring 0.7 < r < 1 (label 0).

    Labels come from where a point was drawn; ``noise`` is the std of Gaussian jitter
    added to both coordinates afterwards, so it blurs the gap.
    """
    inside = np.arange(n_samples) < n_samples // 2
    radius = np.where(inside, rng.uniform(0.0, 0.5, n_samples), rng.uniform(0.7, 1.0, n_samples))
    angle = rng.uniform(0.0, 2 * np.pi, n_samples)
    X = np.stack([radius * np.cos(angle), radius * np.sin(angle)], axis=1)  # (N, 2)
    X += noise * rng.standard_normal(X.shape)
    return _split(
        X.astype(np.float32), inside.astype(np.int64),
        classes=("outside", "inside"), test_fraction=test_fraction, rng=rng,
    )


def gaussians(
    rng: np.random.Generator, *, n_samples: int, noise: float, n_classes: int, test_fraction: float
) -> DatasetFields:
    """``n_classes`` round Gaussian blobs of std ``noise``, centred evenly on the circle r = 0.6.

    Class ``k`` is centred at angle ``2 pi k / n_classes``; classes differ in size by at most one.
    """
    y = np.arange(n_samples) % n_classes
    angle = 2 * np.pi * y / n_classes
    centres = 0.6 * np.stack([np.cos(angle), np.sin(angle)], axis=1)  # (N, 2)
    X = centres + noise * rng.standard_normal((n_samples, 2))
    return _split(
        X.astype(np.float32), y.astype(np.int64),
        classes=tuple(str(k) for k in range(n_classes)), test_fraction=test_fraction, rng=rng,
    )


def spiral(
    rng: np.random.Generator, *, n_samples: int, noise: float, n_classes: int, test_fraction: float
) -> DatasetFields:
    """``n_classes`` spiral arms from the origin to r = 1, one class per arm.

    A point at radius ``r ~ U(0, 1)`` on arm ``k`` sits at angle ``2 pi k / n_classes + 4 r``
    (each arm winds 4 radians); ``noise`` is the std of Gaussian jitter on both coordinates.
    """
    y = np.arange(n_samples) % n_classes
    radius = rng.uniform(0.0, 1.0, n_samples)
    angle = 2 * np.pi * y / n_classes + 4.0 * radius
    X = radius[:, None] * np.stack([np.cos(angle), np.sin(angle)], axis=1)  # (N, 2)
    X += noise * rng.standard_normal(X.shape)
    return _split(
        X.astype(np.float32), y.astype(np.int64),
        classes=tuple(str(k) for k in range(n_classes)), test_fraction=test_fraction, rng=rng,
    )


def moons(rng: np.random.Generator, *, n_samples: int, noise: float, test_fraction: float) -> DatasetFields:
    """Two interleaving half circles (scikit-learn's ``make_moons``) moved and scaled into [-1, 1].

    The upper moon (label 0) is ``(cos t, sin t)``, the lower (label 1) ``(1 - cos t, 0.5 - sin t)``
    for ``t ~ U(0, pi)``; both are shifted by ``(-0.5, -0.25)`` and divided by 1.5, then
    Gaussian jitter of std ``noise`` is added.
    """
    lower = np.arange(n_samples) >= n_samples // 2
    t = rng.uniform(0.0, np.pi, n_samples)
    x1 = np.where(lower, 1.0 - np.cos(t), np.cos(t))
    x2 = np.where(lower, 0.5 - np.sin(t), np.sin(t))
    X = (np.stack([x1, x2], axis=1) - [0.5, 0.25]) / 1.5  # (N, 2)
    X += noise * rng.standard_normal(X.shape)
    return _split(
        X.astype(np.float32), lower.astype(np.int64),
        classes=("upper", "lower"), test_fraction=test_fraction, rng=rng,
    )


# Weights and threshold of the spam rule; see spam.
SPAM_WEIGHTS = {"exclamation_count": 0.5, "contains_free": 2.0, "sender_reputation": -4.0}
SPAM_THRESHOLD = -0.5


def spam(rng: np.random.Generator, *, n_samples: int, noise: float, test_fraction: float) -> DatasetFields:
    """Synthetic e-mails with three features and a documented labelling rule.

    Each e-mail has ``excl = min(Poisson(2), 10)`` exclamation marks, contains "free"
    with probability 0.3, and comes from a sender with reputation ``rep ~ U(0, 1)``.
    It is spam (label 1) when::

        0.5 * excl + 2 * free - 4 * rep + noise * N(0, 1) > -0.5

    The columns of X are ``(excl / 10, free, rep)``, all in [0, 1]. Without noise the
    rule is linear in X, so one sigmoid unit can learn it; with the default noise 0.25 the
    rule itself still labels about 95% of e-mails right.
    """
    excl = np.minimum(rng.poisson(2.0, n_samples), 10)
    free = (rng.random(n_samples) < 0.3).astype(np.float64)
    reputation = rng.random(n_samples)
    features = np.stack([excl, free, reputation], axis=1)  # (N, 3), unscaled
    score = features @ np.array(list(SPAM_WEIGHTS.values()))  # (N,)
    y = (score + noise * rng.standard_normal(n_samples) > SPAM_THRESHOLD).astype(np.int64)
    X = (features * [0.1, 1.0, 1.0]).astype(np.float32)  # (N, 3), all columns in [0, 1]
    return _split(
        X, y, classes=("ham", "spam"), test_fraction=test_fraction, rng=rng,
        feature_names=tuple(SPAM_WEIGHTS),
    )


def sine(rng: np.random.Generator, *, n_samples: int, noise: float, test_fraction: float) -> DatasetFields:
    """``y = sin(x) + noise * N(0, 1)`` for ``x ~ U(-pi, pi)``; X is ``x`` itself, in radians."""
    x = rng.uniform(-np.pi, np.pi, (n_samples, 1))
    y = np.sin(x) + noise * rng.standard_normal((n_samples, 1))  # (N, 1)
    return _split(
        x.astype(np.float32), y.astype(np.float32), classes=(),
        test_fraction=test_fraction, rng=rng, feature_names=("x",),
    )
