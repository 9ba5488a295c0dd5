"""Random rotation and shift of training images: the geometry against NumPy's own
rot90/roll, determinism, and the Trainer wiring."""

import numpy as np
import pytest

from mlp_engine import MLP, Experiment, LayerSpec, ModelConfig, TrainConfig, Trainer, evaluate, load_dataset
from mlp_engine.augmentation import affine_batch, augment_batch

SHAPE = (28, 28)


def pattern(seed=0):
    """(1, 784) float32: an asymmetric 28x28 pattern (an L-shape plus random dots) away from the border."""
    H, W = SHAPE
    img = np.zeros(SHAPE, np.float32)
    img[8:20, 10] = 1.0
    img[19, 10:17] = 0.5
    rng = np.random.default_rng(seed)
    img[rng.integers(6, H - 6, 10), rng.integers(6, W - 6, 10)] = rng.uniform(0.2, 1.0, 10)
    return img.reshape(1, -1)


def centred_digit(mnist_dir):
    data = load_dataset("mnist", mnist_dir=mnist_dir, train_subset=64)
    return data.X_train


def test_zero_limits_return_the_input_exactly():
    X = np.random.default_rng(0).random((5, 784), dtype=np.float32)
    out = augment_batch(X, SHAPE, np.random.default_rng(0), max_shift=0.0, max_rotation_deg=0.0)
    assert np.array_equal(out, X) and out is not X
    # The interpolation itself is exact for the identity, too.
    same = affine_batch(X, SHAPE, np.zeros(5), np.zeros((5, 2)))
    assert np.array_equal(same, X)


@pytest.mark.parametrize("dx, dy", [(1, 0), (0, 1), (-2, 3), (3, -1)])
def test_integer_shift_moves_the_pattern_exactly(dx, dy):
    X = pattern()
    out = affine_batch(X, SHAPE, np.zeros(1), np.array([[dx, dy]], float))
    expected = np.roll(np.roll(X.reshape(SHAPE), dy, axis=0), dx, axis=1)  # nothing wraps: the border is empty
    assert np.array_equal(out.reshape(SHAPE), expected)


def test_shift_fills_with_zeros_outside():
    X = np.ones((1, 784), np.float32)
    out = affine_batch(X, SHAPE, np.zeros(1), np.array([[2.0, 0.0]])).reshape(SHAPE)
    assert np.all(out[:, :2] == 0) and np.all(out[:, 2:] == 1)


@pytest.mark.parametrize("shape", [(28, 28), (9, 9), (10, 10)])
def test_rotation_by_90_degrees_is_numpy_rot90(shape):
    """Positive angles turn the picture counter-clockwise as displayed (row 0 at the top),
    the direction of np.rot90 with its default axes. A quarter turn maps the pixel grid onto
    itself, so even a pattern that fills the whole image comes out exact."""
    X = np.random.default_rng(0).random((1, shape[0] * shape[1]), dtype=np.float32)
    out = affine_batch(X, shape, np.array([90.0]), np.zeros((1, 2)))
    assert np.allclose(out.reshape(shape), np.rot90(X.reshape(shape)), atol=1e-5)
    back = affine_batch(X, shape, np.array([-90.0]), np.zeros((1, 2)))
    assert np.allclose(back.reshape(shape), np.rot90(X.reshape(shape), k=-1), atol=1e-5)


def test_each_example_gets_its_own_transform():
    X = np.repeat(pattern(), 3, axis=0)
    out = affine_batch(X, SHAPE, np.array([0.0, 90.0, 0.0]), np.array([[0.0, 0.0], [0.0, 0.0], [1.0, 0.0]]))
    img = X[0].reshape(SHAPE)
    assert np.array_equal(out[0].reshape(SHAPE), img)
    assert np.allclose(out[1].reshape(SHAPE), np.rot90(img), atol=1e-5)
    assert np.array_equal(out[2].reshape(SHAPE), np.roll(img, 1, axis=1))


def test_small_transforms_roughly_preserve_mass(mnist_dir):
    X = centred_digit(mnist_dir)  # (64, 784) MNIST digits: centred, with a 4 px empty border
    out = augment_batch(X, SHAPE, np.random.default_rng(0), max_shift=2.0, max_rotation_deg=10.0)
    ratio = out.sum(axis=1) / X.sum(axis=1)
    assert np.all(np.abs(ratio - 1) < 0.03)
    assert not np.allclose(out, X)
    assert out.min() >= 0 and out.max() <= 1 + 1e-6  # bilinear weights are a convex combination


def test_same_seed_same_images_different_seed_different():
    X = np.random.default_rng(1).random((16, 784), dtype=np.float32)
    kw = dict(max_shift=2.0, max_rotation_deg=10.0)
    a = augment_batch(X, SHAPE, np.random.default_rng(7), **kw)
    b = augment_batch(X, SHAPE, np.random.default_rng(7), **kw)
    c = augment_batch(X, SHAPE, np.random.default_rng(8), **kw)
    assert np.array_equal(a, b) and not np.allclose(a, c)


def test_out_buffer_is_written_and_returned():
    X = pattern()
    out = np.empty_like(X)
    assert affine_batch(X, SHAPE, np.array([10.0]), np.array([[0.5, -0.5]]), out=out) is out
    with pytest.raises(ValueError, match="overlap"):
        affine_batch(X, SHAPE, np.zeros(1), np.zeros((1, 2)), out=X)


@pytest.mark.parametrize("augment, message", [
    ({"max_shift": -1.0}, "max_shift"),
    ({"max_shift": 5.0}, "max_shift"),
    ({"max_rotation": 31.0}, "max_rotation"),
    ({"max_rotate": 10.0}, "unknown keys"),
    ({"max_shift": "2"}, "max_shift"),
])
def test_train_config_rejects_bad_augment(augment, message):
    with pytest.raises(ValueError, match=message):
        TrainConfig(augment=augment)


def test_augment_on_a_non_image_dataset_raises():
    X = np.random.default_rng(0).random((32, 2), dtype=np.float32)
    y = np.zeros(32, np.int64)
    model = MLP(ModelConfig(2, (LayerSpec(4, "relu"),), 2))
    with pytest.raises(ValueError, match="augmentation needs image inputs"):
        Trainer(model, TrainConfig(augment={"max_shift": 1.0}), X, y)
    with pytest.raises(ValueError, match="augmentation needs image inputs"):
        Trainer(model, TrainConfig(augment={"max_shift": 1.0}), X, y, image_shape=(28, 28))
    with pytest.raises(ValueError, match="augmentation needs image inputs"):
        Experiment.from_dict({"dataset": "xor", "layers": [{"units": 4}], "augment": {"max_shift": 1.0}}).build()


def test_training_with_augment_learns_and_is_deterministic(mnist_dir):
    data = load_dataset("mnist", mnist_dir=mnist_dir, train_subset=3000)
    config = TrainConfig(epochs=2, batch_size=64, augment={"max_shift": 2.0, "max_rotation": 10.0})

    def fit():
        model = MLP(ModelConfig(784, (LayerSpec(128, "relu"),), 10))
        Trainer(model, config, data.X_train, data.y_train, image_shape=data.image_shape).run()
        return model

    first, second = fit(), fit()
    assert evaluate(first, data.X_test, data.y_test)["accuracy"] >= 0.85
    for name, value in first.get_weights().items():
        assert np.array_equal(value, second.get_weights()[name])
    # The training set itself is left as it was.
    assert np.array_equal(data.X_train, load_dataset("mnist", mnist_dir=mnist_dir, train_subset=3000).X_train)


def test_shift_fills_with_the_background_of_standardised_images():
    """Standardised MNIST's blank pixel is -mean/std, not 0: a shifted digit must not get a
    stripe of 'ink' (0 is brighter than blank there) along the border it moved away from."""
    background = -0.42
    X = np.full((1, 784), background, np.float32)
    X[0, 14 * 28 + 14] = 2.0  # one inked pixel in the middle
    out = affine_batch(X, SHAPE, np.zeros(1), np.array([[2.0, 0.0]]), background=background).reshape(SHAPE)
    assert np.allclose(out[:, :2], background)
    assert out[14, 16] == pytest.approx(2.0) and np.count_nonzero(out != np.float32(background)) == 1
    # The same workspace back on raw pixels fills with 0 again.
    zeros = affine_batch(np.ones((1, 784), np.float32), SHAPE, np.zeros(1), np.array([[2.0, 0.0]]))
    assert np.all(zeros.reshape(SHAPE)[:, :2] == 0)


def test_a_standardised_dataset_names_its_blank_pixel(mnist_dir):
    data = load_dataset("mnist", mnist_dir=mnist_dir, train_subset=1000, standardize=True)
    assert data.image_background == pytest.approx(float(data.X_train.min()))  # the border pixels
    assert data.image_background < 0
    assert load_dataset("mnist", mnist_dir=mnist_dir, train_subset=1000).image_background == 0.0


def test_augmented_batches_of_blank_standardised_images_stay_blank():
    from mlp_engine.batches import EpochBatches
    from mlp_engine.train_config import AugmentConfig

    background = -0.42
    X = np.full((50, 784), background, np.float32)
    batches = EpochBatches(X, np.zeros(50, int), batch_size=16, seed=0, epoch=0, image_shape=SHAPE,
                           augment=AugmentConfig(max_shift=3.0, max_rotation=20.0), image_background=background)
    for b in range(len(batches)):
        np.testing.assert_allclose(batches.batch(b), background, rtol=1e-6)


def test_a_batch_made_in_slices_is_the_batch_made_whole():
    """What tensor-parallel processes rely on: each draws the whole batch's transforms and
    makes only its rows; together they make the same batch as one process."""
    X = np.random.default_rng(1).random((10, 784), dtype=np.float32)
    whole = augment_batch(X, SHAPE, np.random.default_rng(7), max_shift=2.0, max_rotation_deg=15.0)
    sliced = np.full_like(X, np.nan)
    for rows in (slice(0, 3), slice(3, 10)):
        augment_batch(X, SHAPE, np.random.default_rng(7), max_shift=2.0, max_rotation_deg=15.0,
                      out=sliced, rows=rows)
    np.testing.assert_array_equal(sliced, whole)


@pytest.mark.parametrize("limits", [(2.0, 15.0), (0.0, 0.0)])
def test_pixels_orders_the_output_columns(limits):
    """augment_batch(pixels=order) gives the same images, their columns in that order:
    the Trainer feeds the first layer its inputs most-often-inked first."""
    X = np.random.default_rng(2).random((6, 784), dtype=np.float32)
    order = np.random.default_rng(3).permutation(784)
    shift, rotation = limits
    plain = augment_batch(X, SHAPE, np.random.default_rng(9), max_shift=shift, max_rotation_deg=rotation)
    ordered = augment_batch(X, SHAPE, np.random.default_rng(9), max_shift=shift, max_rotation_deg=rotation,
                            pixels=order)
    np.testing.assert_array_equal(ordered, plain[:, order])


def test_training_with_augment_in_inked_first_order_is_training_in_pixel_order(mnist_dir):
    """With augmentation the Trainer keeps every pixel but orders them most often inked first
    (the first layer's rows with them); the run is the one in pixel order, up to float rounding."""
    data = load_dataset("mnist", mnist_dir=mnist_dir, train_subset=600)
    config = TrainConfig(epochs=2, batch_size=50, augment={"max_shift": 1.0, "max_rotation": 8.0})
    nets = {}
    for skip in (True, False):
        nets[skip] = MLP(ModelConfig(784, (LayerSpec(32, "relu"),), 10, dtype="float64", seed=0))
        trainer = Trainer(nets[skip], config, data.X_train, data.y_train, image_shape=data.image_shape,
                          skip_dead_inputs=skip)
        trainer.run()
        if skip:
            order = trainer.engine.order
            assert sorted(order) == list(range(784))  # a permutation: nothing dropped
            assert np.count_nonzero(data.X_train[:, order[0]]) > np.count_nonzero(data.X_train[:, order[-1]])
    for name, value in nets[False].params().items():
        np.testing.assert_allclose(nets[True].params()[name], value, rtol=1e-9, atol=1e-12, err_msg=name)
