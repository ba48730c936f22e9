"""Outputs count only when whole: each format's whole file exists, a half-written copy not."""

from __future__ import annotations

import h5py
import imageio.v3 as iio
import matplotlib
import numpy as np
import pytest
import torch

from hgcal_ae.atomic import write_csv, write_json
from hgcal_ae.workflows.study import TriggerCellData
from hgcal_ae.workflows.targets import WholeTarget, is_whole

matplotlib.use("Agg")


def _json(path):
    write_json(path, {"rows": [{"emd_mean_cm": 0.74, "n_elinks": 2}] * 20})


def _h5(path):
    with h5py.File(path, "w") as h5:
        h5.attrs["schema"] = "hgcal-ae/trigger-cells"
        h5.create_dataset("tc", data=np.arange(48 * 200, dtype=np.float32).reshape(200, 48))


def _pt(path):
    torch.save({"config": {"latent_dim": 16}, "state_dict": {"w": torch.ones(64, 64)}}, path)


def _npz(path):
    np.savez(path, images=np.arange(28 * 28 * 50, dtype=np.uint8))


def _png(path):
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(2, 2))
    ax.plot([0, 1, 2], [2, 0, 1])
    fig.savefig(path)
    plt.close(fig)


def _gif(path):
    frames = np.stack([np.full((16, 16, 3), 40 * k, np.uint8) for k in range(4)])
    frames[:, 4:8, 4:8] = 255
    iio.imwrite(path, frames, extension=".gif", duration=200, loop=0)


def _csv(path):
    write_csv(path, [{"latent_dim": d, "emd_mean_cm": 0.5 + d / 100} for d in range(9)])


def _text(path):
    path.write_text("| latent dim | EMD [cm] |\n|---|---|\n| 16 | 0.741 |\n", encoding="utf-8")


def _bin(path):
    path.write_bytes(b"\x00\x01" * 100)


WRITERS = {
    ".json": _json,
    ".h5": _h5,
    ".pt": _pt,
    ".npz": _npz,
    ".png": _png,
    ".gif": _gif,
    ".csv": _csv,
    ".md": _text,
    ".txt": _text,
    ".bin": _bin,
}


def _cut_in_half(path):
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


@pytest.mark.parametrize("suffix", [s for s in WRITERS if s != ".bin"])
def test_a_whole_file_exists_and_half_of_it_does_not(tmp_path, suffix):
    path = tmp_path / f"output{suffix}"
    target = WholeTarget(str(path))
    assert not target.exists()
    WRITERS[suffix](path)
    assert target.exists()
    _cut_in_half(path)
    assert not target.exists()


@pytest.mark.parametrize("suffix", list(WRITERS))
def test_an_empty_file_is_not_whole(tmp_path, suffix):
    path = tmp_path / f"output{suffix}"
    WRITERS[suffix](path)
    assert is_whole(path)
    path.write_bytes(b"")
    assert not is_whole(path)


def test_other_suffixes_only_need_a_non_empty_file(tmp_path):
    path = tmp_path / "output.bin"
    _bin(path)
    _cut_in_half(path)
    assert is_whole(path)


def test_hdf5_without_a_schema_attribute_is_not_whole(tmp_path):
    path = tmp_path / "events.h5"
    _h5(path)
    with h5py.File(path, "a") as h5:
        del h5.attrs["schema"]
    assert not is_whole(path)


def test_files_that_are_not_their_format_are_not_whole(tmp_path):
    for suffix in (".json", ".h5", ".pt", ".npz", ".png", ".gif"):
        path = tmp_path / f"text{suffix}"
        path.write_text("not this format\n", encoding="utf-8")
        assert not is_whole(path), suffix


def test_a_folder_target_exists_when_the_folder_does(tmp_path):
    target = WholeTarget(str(tmp_path / "reconstructions"))
    assert not target.exists()
    (tmp_path / "reconstructions").mkdir()
    assert target.exists()


def test_local_target_of_every_task_checks_wholeness(tmp_path):
    task = TriggerCellData(output_dir=str(tmp_path))  # any task: HgcalTask itself is abstract (law)
    target = task.local_target("mnist", "run", "summary.json")
    assert isinstance(target, WholeTarget)
    with target.open("w") as fh:  # luigi's own atomic write still works
        fh.write('{"ok": true}\n')
    assert target.exists()
    (tmp_path / "mnist" / "run" / "summary.json").write_text('{"ok": tr', encoding="utf-8")
    assert not target.exists()
