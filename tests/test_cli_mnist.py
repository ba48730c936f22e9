"""The command line: every kind of bad input gets one line, a non-zero exit, and no output."""

from __future__ import annotations

import gzip
import socket
import subprocess
import sys

import numpy as np
import pytest

from hgcal_ae.cli import main
from hgcal_ae.datasets.idx import idx_bytes
from hgcal_ae.models.device import cuda_device_count


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # closed again when the block ends


def _corrupt_data_dir(path):
    path.mkdir()
    names = (
        "train-images-idx3-ubyte",
        "train-labels-idx1-ubyte",
        "t10k-images-idx3-ubyte",
        "t10k-labels-idx1-ubyte",
    )
    shapes = ((60000, 28, 28), (60000,), (10000, 28, 28), (10000,))
    for name, shape in zip(names, shapes, strict=True):
        (path / f"{name}.gz").write_bytes(
            gzip.compress(idx_bytes(np.zeros(shape, np.uint8)), compresslevel=1)
        )
    return path


BAD_INPUTS = {
    "latent-zero": (["mnist", "--latent-dim", "0"], r"latent dim must be in 1\.\.784 .*got 0"),
    "latent-negative": (["mnist", "--latent-dim", "-4"], r"got -4"),
    "latent-too-big": (["mnist", "--latent-dim", "785"], r"got 785"),
    "latent-not-int": (
        ["mnist", "--latent-dim", "2.5"],
        r"must be an integer in 1\.\.784, got '2\.5'",
    ),
    "scan-latent-bad": (["mnist-scan", "--latent-dims", "2,x,8"], r"got 'x'"),
    "unknown-dataset": (
        ["mnist", "--latent-dim", "4", "--dataset", "cifar10"],
        r"unknown dataset 'cifar10'",
    ),
    "unknown-arch": (
        ["mnist", "--latent-dim", "4", "--arch", "vae"],
        r"unknown arch 'vae'; expected one of dense, conv",
    ),
    "scan-unknown-arch": (["mnist-scan", "--arch", "conv,rnn"], r"unknown arch 'rnn'"),
    "unknown-loss": (
        ["mnist", "--latent-dim", "4", "--loss", "hinge"],
        r"unknown loss 'hinge'; expected one of bce, mse",
    ),
    "zero-epochs": (
        ["mnist", "--latent-dim", "4", "--epochs", "0"],
        r"--epochs must be >= 1, got 0",
    ),
    "negative-limit": (["mnist", "--latent-dim", "4", "--limit", "-5"], r"--limit must be >= 0"),
    # checked by the tasks' own parameters, still before any folder is made
    "zero-batch-size": (
        ["mnist", "--latent-dim", "4", "--batch-size", "0"],
        r"batch_size must be a positive integer, got 0",
    ),
    "negative-learning-rate": (
        ["mnist", "--latent-dim", "4", "--learning-rate", "-0.1"],
        r"learning rate must be positive, got -0\.1",
    ),
    "scan-zero-batch-size": (
        ["mnist-scan", "--latent-dims", "2,4", "--batch-size", "0"],
        r"batch_size must be a positive integer, got 0",
    ),
    "scan-negative-tolerance": (
        ["mnist-scan", "--latent-dims", "2,4", "--tolerance", "-1"],
        r"tolerance must be >= 0, got -1\.0",
    ),
}


@pytest.mark.parametrize("case", list(BAD_INPUTS))
def test_bad_option_values(case, tmp_path, capsys):
    argv, message = BAD_INPUTS[case]
    out = tmp_path / "out"
    code = main([*argv, "--output-dir", str(out)])
    err = capsys.readouterr().err
    assert code == 2
    assert len(err.strip().splitlines()) == 1, err
    assert err.startswith("hgcal-ae: error: ")
    assert __import__("re").search(message, err), err
    assert not out.exists()


def _run_bad(argv, tmp_path, capsys):
    out = tmp_path / "out"
    code = main([*argv, "--output-dir", str(out)] if "--output-dir" not in argv else argv)
    err = capsys.readouterr().err
    assert code != 0
    assert len(err.strip().splitlines()) == 1, err
    return err, out


def test_corrupt_data_file(tmp_path, capsys):
    data = _corrupt_data_dir(tmp_path / "data")
    err, out = _run_bad(["mnist", "--latent-dim", "4", "--data-dir", str(data)], tmp_path, capsys)
    assert "checksum mismatch for" in err and "train-images-idx3-ubyte.gz" in err
    assert not out.exists()


def test_truncated_data_file(tmp_path, capsys):
    data = _corrupt_data_dir(tmp_path / "data")
    target = data / "t10k-labels-idx1-ubyte.gz"
    target.write_bytes(target.read_bytes()[:20])
    err, out = _run_bad(["mnist", "--latent-dim", "4", "--data-dir", str(data)], tmp_path, capsys)
    assert "t10k-labels-idx1-ubyte.gz" in err and "truncated" in err
    assert not out.exists()


# Every command with valid options, to be run against a scheduler that is not there.
RUNS = {
    "mnist": ["mnist", "--latent-dim", "4"],
    "mnist-scan": ["mnist-scan", "--latent-dims", "2,4"],
    "simulate": ["simulate", "--energies", "20", "--events", "20"],
    "validate-simulation": ["validate-simulation", "--energies", "20,30,40", "--events", "20"],
    "ingest-root": ["ingest-root", "{source}"],
    "study": ["study", "--preset", "smoke"],
    "merging": ["merging", "--preset", "smoke"],
}


@pytest.mark.parametrize("command", list(RUNS))
def test_unreachable_scheduler_leaves_no_folder(command, tmp_path, capsys):
    """A check that fails before the run (here: the scheduler) creates no output folder."""
    source = tmp_path / "run1.root"
    source.write_bytes(b"not read before the run")
    port = _closed_port()
    argv = [a.format(source=source) for a in RUNS[command]]
    err, out = _run_bad(
        [*argv, "--scheduler-host", "127.0.0.1", "--scheduler-port", str(port)], tmp_path, capsys
    )
    assert err.startswith(f"hgcal-ae: error: cannot reach the luigi scheduler at 127.0.0.1:{port}")
    assert not out.exists()


@pytest.mark.skipif(cuda_device_count() > 0, reason="this machine has a GPU")
def test_cuda_without_gpu(tmp_path, capsys):
    err, out = _run_bad(["mnist", "--latent-dim", "4", "--device", "cuda"], tmp_path, capsys)
    assert "no CUDA GPU is available" in err
    assert not out.exists()


def test_output_directory_that_cannot_be_written(tmp_path, capsys, mnist_cache):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    argv = ["mnist", "--latent-dim", "4", "--output-dir", str(blocker / "out")]
    err, _ = _run_bad(argv, tmp_path, capsys)
    assert "output directory" in err and "is not writable" in err
    assert blocker.read_text() == "not a folder"


def test_console_script_exit_code_and_single_line(tmp_path):
    """The installed command, in a real process."""
    exe = __import__("pathlib").Path(sys.executable).with_name("hgcal-ae")
    done = subprocess.run([str(exe), "mnist", "--latent-dim", "0", "--output-dir", str(tmp_path / "o")],
                          capture_output=True, text=True, timeout=60, check=False)  # fmt: skip
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "hgcal-ae: error: latent dim must be in 1..784 (the input has 784 values), got 0"
    ]
    assert done.stdout == ""


def test_help_lists_the_commands(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--help"])
    assert exc.value.code == 0
    assert "mnist-scan" in capsys.readouterr().out
