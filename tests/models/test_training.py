from __future__ import annotations

import dataclasses

import pytest
import torch

from hgcal_ae.datasets.mnist import load_images
from hgcal_ae.errors import ConfigError, DataError, DeviceError
from hgcal_ae.models.device import cuda_device_count, resolve_device
from hgcal_ae.models.losses import image_loss
from hgcal_ae.models.store import images_to_tensor, load_trained, save_trained
from hgcal_ae.models.training import TrainingConfig, train_autoencoder


class Killed(Exception):
    """Stands for the process being killed between two epochs."""


@pytest.fixture(scope="module")
def digits(mnist_cache):
    data = load_images("mnist", cache=mnist_cache.parent)
    return images_to_tensor(data.train_x[:600]), images_to_tensor(data.val_x[:200])


def _weights(model):
    return {k: v.clone() for k, v in model.state_dict().items()}


def _assert_same_weights(a, b):
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), key


CONFIG = TrainingConfig(arch="dense", latent_dim=8, epochs=4, batch_size=64, seed=3)


def test_loss_falls_on_real_digits(digits):
    result = train_autoencoder(CONFIG, *digits)
    losses = [r.val_loss for r in result.history]
    assert losses[-1] < losses[0] * 0.9
    assert [r.epoch for r in result.history] == [1, 2, 3, 4]


def test_same_seed_same_weights_other_seed_other_weights(digits):
    a = train_autoencoder(dataclasses.replace(CONFIG, epochs=1), *digits)
    b = train_autoencoder(dataclasses.replace(CONFIG, epochs=1), *digits)
    c = train_autoencoder(dataclasses.replace(CONFIG, epochs=1, seed=4), *digits)
    _assert_same_weights(_weights(a.model), _weights(b.model))
    assert not torch.equal(
        a.model.state_dict()["encoder.1.weight"], c.model.state_dict()["encoder.1.weight"]
    )


@pytest.mark.parametrize("arch", ["dense", "conv"])
def test_resume_after_kill_matches_uninterrupted_run(tmp_path, digits, arch):
    config = dataclasses.replace(CONFIG, arch=arch)
    reference = train_autoencoder(config, *digits, checkpoint=tmp_path / "ref.pt")

    def kill_after_two(record):
        if record.epoch == 2:
            raise Killed

    checkpoint = tmp_path / "run.pt"
    with pytest.raises(Killed):
        train_autoencoder(config, *digits, checkpoint=checkpoint, on_epoch=kill_after_two)
    assert torch.load(checkpoint, weights_only=False)["epoch"] == 2

    seen = []
    resumed = train_autoencoder(
        config, *digits, checkpoint=checkpoint, on_epoch=lambda r: seen.append(r.epoch)
    )
    assert resumed.resumed_from == 2
    assert seen == [3, 4]  # continues at k + 1
    assert [r.epoch for r in resumed.history] == [1, 2, 3, 4]
    _assert_same_weights(_weights(resumed.model), _weights(reference.model))
    assert [r.val_loss for r in resumed.history] == [r.val_loss for r in reference.history]
    assert resumed.snapshots.shape == reference.snapshots.shape


def test_checkpoint_of_another_configuration_is_refused(tmp_path, digits):
    checkpoint = tmp_path / "run.pt"
    train_autoencoder(dataclasses.replace(CONFIG, epochs=1), *digits, checkpoint=checkpoint)
    with pytest.raises(ConfigError, match="belongs to another configuration"):
        train_autoencoder(dataclasses.replace(CONFIG, latent_dim=9), *digits, checkpoint=checkpoint)


def test_truncated_checkpoint_is_reported(tmp_path, digits):
    checkpoint = tmp_path / "run.pt"
    train_autoencoder(dataclasses.replace(CONFIG, epochs=1), *digits, checkpoint=checkpoint)
    checkpoint.write_bytes(checkpoint.read_bytes()[:100])
    with pytest.raises(DataError, match=r"checkpoint .*run\.pt' is unreadable"):
        train_autoencoder(CONFIG, *digits, checkpoint=checkpoint)


def test_snapshots_and_store_roundtrip(tmp_path, digits):
    train, val = digits
    result = train_autoencoder(
        dataclasses.replace(CONFIG, epochs=2), train, val, snapshot_images=val[:5]
    )
    assert result.snapshots.shape == (2, 5, 28, 28)
    assert result.snapshots.min() >= 0.0 and result.snapshots.max() <= 1.0
    save_trained(tmp_path / "model.pt", result, note="x")
    model, loaded, payload = load_trained(tmp_path / "model.pt")
    assert payload["note"] == "x" and loaded.config == result.config
    with torch.no_grad():
        torch.testing.assert_close(model(val[:5]), result.model(val[:5]))


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("arch", "mlp", "unknown arch 'mlp'"),
        ("loss", "l1", "unknown loss 'l1'; expected one of bce, mse"),
        ("epochs", 0, "epochs must be a positive integer, got 0"),
        ("latent_dim", 0, "latent dim must be in 1..784"),
        ("learning_rate", -1.0, "learning rate must be positive"),
    ],
)
def test_bad_configuration(field, value, message):
    with pytest.raises(ConfigError, match=message.replace(".", r"\.").replace("(", r"\(")):
        TrainingConfig(**{field: value})


def test_losses_per_pixel():
    target = torch.tensor([[0.0, 1.0]])
    logits = torch.tensor([[0.0, 0.0]])  # sigmoid = 0.5 everywhere
    assert float(image_loss("bce")(logits, target)) == pytest.approx(
        torch.log(torch.tensor(2.0)).item()
    )
    assert float(image_loss("mse")(logits, target)) == pytest.approx(0.25)


@pytest.mark.skipif(cuda_device_count() > 0, reason="this machine has a GPU")
def test_cuda_without_gpu_is_a_device_error():
    with pytest.raises(DeviceError, match=r"device 'cuda' requested but no CUDA GPU is available"):
        resolve_device("cuda")


def test_device_names():
    assert resolve_device("cpu").type == "cpu"
    assert resolve_device("auto").type == ("cuda" if cuda_device_count() > 0 else "cpu")
    with pytest.raises(ConfigError, match="unknown device 'gpu0'"):
        resolve_device("gpu0")
