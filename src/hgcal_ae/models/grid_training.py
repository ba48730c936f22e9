"""A grid of module autoencoders trained together, as one vectorised model.

Public API::

    train_module_grid(configs, train_tc, val_tc, *, checkpoints=None, finetune_loss=None,
                      device="cpu", on_epoch=None) -> list[(ModuleAutoencoder, LoopResult)]
    stacking_groups(configs) -> list[list[int]]      # which members share one stack

Member ``k`` of the result is what ``train_module_autoencoder(configs[k], train_tc, val_tc,
checkpoint=checkpoints[k], finetune_loss=finetune_loss)`` returns, within float tolerance:

* **initial weights**: each member's model is built as the single loop builds it
  (:func:`~hgcal_ae.models.training.seeded_model` with its own seed);
* **batch order**: each member draws its permutation of the training modules from its own
  generator (``_batch_order(n, seed, epoch)`` of :mod:`hgcal_ae.models.training`), so its
  batches are the single loop's batches;
* **optimiser**: one ``torch.optim.Adam`` over the stacked parameters.  Adam is elementwise
  and its step count is shared, so on a stack of members with one learning rate it performs
  exactly the updates of one Adam per member;
* **losses and epochs**: the training and validation losses of each epoch are each member's
  own (the validation loss in batches of 4096 modules, as :func:`train_rows` computes it).
  A member whose ``epochs`` are done leaves the stack (its weights are final); the others
  go on;
* **checkpoints**: ``checkpoints[k]`` is written after every epoch in the single loop's
  format (``fit``'s ``checkpoint.pt``: settings, epoch, weights, Adam state, history),
  atomically; a rerun resumes every member from its own checkpoint, and a checkpoint of the
  grid can be resumed by the single loop and the other way round.  The fine-tuning stage
  (``finetune_epochs``) writes ``finetune_<name>`` beside it, as the single loop does.

**Stacking.**  Members are stacked when they share everything that shapes the computation
except the latent code: ``filters``, ``quantised_weights``, ``weight_bits``,
``decoder_head``, ``loss``, ``batch_size``, ``learning_rate`` and the epoch they resume at
(:func:`stacking_groups`).  Inside a stack the latent dims differ: every member's latent
layer is padded with zeros to the largest ``latent_dim`` and its code masked to its own
dims (pad and mask).  The padded weights get exactly zero gradient, so Adam leaves them at
zero, and a member's own weights see sums with extra ``+ 0`` terms only.  Padding rather
than one stack per latent dim because the study's grid has five latent dims of two or
three members each: one stack per dim would pay the per-step cost five times, and the
padding costs at most a (24 − d) × 128 slice of two small dense layers.  ``latent_bits``
differs freely: the quantisation step is a per-member tensor.  ``seed`` and ``epochs``
differ freely.

The stack runs the network of :class:`~hgcal_ae.models.module_ae.ModuleAutoencoder` on all
members at once (:func:`_stacked_forward`): dense layers as batched matrix products, the
encoder's convolution and the last transposed convolution as small dense matrices made from
the members' kernels, the stride-2 transposed convolution as one grouped convolution.  The
losses of ``module_loss`` are vmapped (``torch.func.vmap``); an injected ``finetune_loss``
(e.g. the exact EMD, whose kernels are not vmappable) is called once per member on its
slice of the stack.  Each epoch record's ``seconds`` is the stack's epoch, shared by its
members.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import numpy.typing as npt
import torch
import torch.nn.functional as F
from torch.func import vmap

from hgcal_ae.errors import ConfigError
from hgcal_ae.models.experiment_log import EpochLogger, epoch_logger
from hgcal_ae.models.losses import Loss
from hgcal_ae.models.module_ae import ModuleAutoencoder, image_mask
from hgcal_ae.models.module_losses import module_loss
from hgcal_ae.models.module_training import ModuleTrainingConfig, module_inputs
from hgcal_ae.models.quantisation import quantise_weights

# the single loop's own batch order and checkpoint format, so that both agree exactly
from hgcal_ae.models.training import (
    EpochRecord,
    LoopResult,
    _batch_order,
    _load_checkpoint,
    _save_checkpoint,
    seeded_model,
)

__all__ = ["GridEpochCallback", "stacking_groups", "train_module_grid"]

GridEpochCallback = Callable[[int, EpochRecord], None]
"""``on_epoch(k, record)``: member ``k`` (its index in ``configs``) finished an epoch."""

# ModuleAutoencoder's parameters in their order, and the dim (if any) that is the latent dim
_PARAMETERS: tuple[tuple[str, int | None], ...] = (
    ("conv.weight", None),
    ("conv.bias", None),
    ("dense.weight", 0),
    ("dense.bias", 0),
    ("decoder.0.weight", 1),
    ("decoder.0.bias", None),
    ("decoder.3.weight", None),
    ("decoder.3.bias", None),
    ("decoder.5.weight", None),
    ("decoder.5.bias", None),
)
_VAL_BATCH = 4096  # train_rows' validation batches


@dataclass
class _Member:
    """One member in one stage: its settings, model, Adam state and history so far."""

    index: int  # position in the caller's configs
    config: ModuleTrainingConfig  # the stage's settings (epochs, learning rate)
    loss: str  # the module loss, or "finetune"
    model: ModuleAutoencoder
    checkpoint: Path | None
    adam: dict[str, Any] | None = None  # a fit-format optimiser state_dict, when resumed
    history: list[EpochRecord] = field(default_factory=list)
    start_epoch: int = 1
    log: EpochLogger | None = None

    def stack_key(self) -> tuple[Any, ...]:
        return _stack_key(self.config, self.loss, self.start_epoch)


def _stack_key(config: ModuleTrainingConfig, loss: str, start_epoch: int) -> tuple[Any, ...]:
    """What members of one stack share: all but latent dim, latent bits, seed and epochs."""
    c = config
    return (c.filters, c.quantised_weights, c.weight_bits, c.decoder_head, loss,
            c.batch_size, c.learning_rate, start_epoch)  # fmt: skip


def stacking_groups(configs: Sequence[ModuleTrainingConfig]) -> list[list[int]]:
    """Indices of ``configs`` that train in one stack (fresh runs; see the module docstring)."""
    groups: dict[tuple[Any, ...], list[int]] = {}
    for k, config in enumerate(configs):
        groups.setdefault(_stack_key(config, config.loss, 1), []).append(k)
    return list(groups.values())


def _check_model(model: ModuleAutoencoder) -> None:
    names = tuple(name for name, _ in model.named_parameters())
    if names != tuple(name for name, _ in _PARAMETERS):
        msg = f"grid training knows the module AE's parameters {[n for n, _ in _PARAMETERS]}, the model has {list(names)}; update models/grid_training.py with the architecture"
        raise ConfigError(msg)


@cache
def _tap_map(transposed: bool, n_in: int, stride: int, padding: int, extra: int) -> torch.Tensor:
    """``(P_in, P_out)``: which of the 9 taps of a 3x3 kernel joins input pixel ``p`` to output
    pixel ``q`` of a ``n_in`` x ``n_in`` convolution (9: none), found by running torch's own."""
    eye = torch.eye(n_in * n_in).view(-1, 1, n_in, n_in)
    taps = torch.eye(9)
    if transposed:
        response = F.conv_transpose2d(
            eye, taps.view(1, 9, 3, 3), stride=stride, padding=padding, output_padding=extra
        )
    else:
        response = F.conv2d(eye, taps.view(9, 1, 3, 3), stride=stride, padding=padding)
    response = response.flatten(2)  # (P_in, 9, P_out)
    assert bool((response.sum(dim=1) <= 1).all())  # one tap at most joins two pixels
    return torch.where(response.sum(dim=1) > 0, response.argmax(dim=1), 9)


@cache
def _operator_index(
    transposed: bool,
    c_in: int,
    c_out: int,
    n_in: int,
    stride: int,
    padding: int,
    extra: int,
    device: torch.device,
) -> torch.Tensor:
    """Index ``(c_out·P_out, c_in·P_in)`` into a layer's flat weights (+ a zero slot) that makes
    the layer's dense matrix: ``output = matrix @ input.flatten()`` for a (C, H, W) image."""
    taps = _tap_map(transposed, n_in, stride, padding, extra)  # (P_in, P_out)
    o = torch.arange(c_out)[:, None, None, None]
    i = torch.arange(c_in)[None, None, :, None]
    kernel = i * c_out + o if transposed else o * c_in + i  # (in, out, 3, 3) or (out, in, 3, 3)
    index = kernel * 9 + taps.T[None, :, None, :]  # (c_out, P_out, c_in, P_in)
    zero = c_in * c_out * 9
    index = torch.where(taps.T[None, :, None, :] == 9, zero, index)
    return index.reshape(c_out * taps.shape[1], c_in * taps.shape[0]).to(device)


def _dense_operator(weight: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
    """Stacked layer matrices ``(K, rows, cols)`` from stacked kernels ``(K, ...)``."""
    k = weight.shape[0]
    flat = torch.cat([weight.reshape(k, -1), weight.new_zeros(k, 1)], dim=1)
    return flat.index_select(1, index.flatten()).view(k, *index.shape)


def _stacked_forward(
    params: Sequence[torch.Tensor],
    steps: torch.Tensor,
    code_mask: torch.Tensor,
    images: torch.Tensor,
    *,
    head: str,
    weight_bits: int | None,
) -> torch.Tensor:
    """ModuleAutoencoder.forward of K members on their images ``(K, B, 1, 8, 8)``.

    The encoder's convolution and the last transposed convolution run as dense matrices
    (:func:`_operator_index`: the 8x8 images make them small) in one batched product over
    the members; the stride-2 transposed convolution runs as one grouped convolution.
    In one measurement on 2 busy cores (14 members, batch 128) this was 1.4x faster than
    ``torch.func.vmap`` over the module's layers, whose grouped convolutions dominate its step.
    """
    cw, cb, dw, db, w0, b0, w3, b3, w5, b5 = params
    if weight_bits is not None:  # the encoder's 6-bit weights, as _QuantisedWeights
        cw, cb, dw, db = (quantise_weights(t, weight_bits) for t in (cw, cb, dw, db))
    k, b = images.shape[:2]
    filters = cw.shape[1]
    conv = _dense_operator(cw, _operator_index(False, 1, filters, 8, 2, 1, 0, cw.device))
    h = torch.baddbmm(cb.repeat_interleave(16, dim=1)[:, None], images.reshape(k, b, 64), conv.mT)
    z = torch.baddbmm(db[:, None], torch.relu(h), dw.mT)
    # quantise_unsigned(z, bits) with each member's step 2**(1 - bits), straight-through
    step = steps[:, None, None]
    clipped = torch.clamp(z.clamp_min(0.0), max=2.0 - step)
    quantised = torch.round(clipped / step) * step
    code = (clipped + (quantised - clipped).detach()) * code_mask[:, None]
    d = torch.relu(torch.baddbmm(b0[:, None], code, w0.mT))  # (K, B, 128)
    d = d.view(k, b, 8, 4, 4).transpose(0, 1).reshape(b, k * 8, 4, 4)
    e = F.conv_transpose2d(d, w3.reshape(k * 8, 8, 3, 3), b3.reshape(-1), stride=2, padding=1,
                           output_padding=1, groups=k)  # fmt: skip
    e = torch.relu(e).view(b, k, 8 * 64).transpose(0, 1)
    last = _dense_operator(w5, _operator_index(True, 8, 1, 8, 1, 1, 0, w5.device))
    logits = torch.baddbmm(b5.expand(k, 64)[:, None], e, last.mT).view(k, b, 1, 8, 8)
    mask = image_mask().to(logits.device)
    if head == "sigmoid":
        return torch.sigmoid(logits) * mask
    flat = logits.masked_fill(mask == 0, float("-inf")).flatten(2)
    total = images.sum(dim=(2, 3, 4))[..., None]
    return (torch.softmax(flat, dim=2) * total).view(k, b, 1, 8, 8)


class _Stack:
    """The parameters and Adam of a group of members, stacked along a leading member dim."""

    def __init__(self, members: list[_Member], device: torch.device) -> None:
        self.members = members
        first = members[0].config
        self.latent = max(m.config.latent_dim for m in members)
        self.head = first.decoder_head
        self.weight_bits = first.weight_bits if first.quantised_weights else None
        own = [dict(m.model.named_parameters()) for m in members]
        self.params: list[torch.Tensor] = [
            torch.stack([self._pad(p[name], dim) for p in own]).to(device).requires_grad_(True)
            for name, dim in _PARAMETERS
        ]
        self.optimiser = torch.optim.Adam(self.params, lr=first.learning_rate)
        states = [m.adam for m in members]
        if all(s is not None for s in states):
            for i, (p, (_, dim)) in enumerate(zip(self.params, _PARAMETERS, strict=True)):
                per = [s["state"][i] for s in states if s is not None]
                self.optimiser.state[p] = {
                    "step": per[0]["step"].clone(),
                    **{key: torch.stack([self._pad(s[key], dim) for s in per]).to(device)
                       for key in ("exp_avg", "exp_avg_sq")},
                }  # fmt: skip
        bits = torch.tensor([m.config.latent_bits for m in members], dtype=torch.float32)
        self.steps = (2.0 ** (1.0 - bits)).to(device)  # quantisation step per member
        dims = torch.tensor([m.config.latent_dim for m in members])
        self.code_mask = (torch.arange(self.latent) < dims[:, None]).float().to(device)

    def _pad(self, tensor: torch.Tensor, dim: int | None) -> torch.Tensor:
        if dim is None or tensor.shape[dim] == self.latent:
            return tensor.detach()
        pad = [0, 0] * (tensor.dim() - 1 - dim) + [0, self.latent - tensor.shape[dim]]
        return F.pad(tensor.detach(), pad)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """Every member's output for its images ``(K, B, 1, 8, 8)``."""
        return _stacked_forward(self.params, self.steps, self.code_mask, images,
                                head=self.head, weight_bits=self.weight_bits)  # fmt: skip

    def unstack(self, k: int) -> None:
        """Copy member ``k``'s weights and Adam state into its own model (fit's format)."""
        member = self.members[k]
        own = dict(member.model.named_parameters())
        optimiser = torch.optim.Adam(member.model.parameters(), lr=member.config.learning_rate)
        with torch.no_grad():
            for p, (name, _) in zip(self.params, _PARAMETERS, strict=True):
                target = own[name]
                crop = tuple(slice(0, s) for s in target.shape)
                target.copy_(p[k][crop])
                state = self.optimiser.state.get(p)
                if state:
                    optimiser.state[target] = {
                        "step": state["step"].clone(),
                        **{key: state[key][k][crop].clone() for key in ("exp_avg", "exp_avg_sq")},
                    }
        member.adam = optimiser.state_dict()


def _member_losses(
    loss: str, finetune: Loss | None
) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
    """Per-member mean losses (K,) of targets and outputs (K, B, 1, 8, 8)."""
    if loss != "finetune":
        fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] = vmap(module_loss(loss))
        return fn
    assert finetune is not None

    def each(y: torch.Tensor, y_hat: torch.Tensor) -> torch.Tensor:
        return torch.stack([finetune(y[k], y_hat[k]) for k in range(len(y))])

    return each


def _save(member: _Member, epoch: int) -> None:
    if member.checkpoint is not None:
        _save_checkpoint(
            member.checkpoint,
            {
                "config": dataclasses.asdict(member.config),
                "epoch": epoch,
                "model": member.model.state_dict(),
                "optimizer": member.adam,
                "history": [dataclasses.asdict(r) for r in member.history],
                "snapshots": [],
            },
        )


def _train_stack(
    members: list[_Member],
    train: torch.Tensor,
    val: torch.Tensor,
    losses: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    device: torch.device,
    on_epoch: GridEpochCallback | None,
) -> None:
    """Train one stack: ``fit``'s loop for every member at once; members leave when done."""
    n = len(train)
    epoch = members[0].start_epoch
    active = [m for m in members if m.start_epoch <= m.config.epochs]
    while active:
        stack = _Stack(active, device)
        batch_size = active[0].config.batch_size
        while True:
            t0 = time.perf_counter()
            orders = torch.stack([_batch_order(n, m.config.seed, epoch) for m in active])
            orders = orders.to(device)
            running = torch.zeros(len(active), device=device)
            for start in range(0, n, batch_size):
                batch = train[orders[:, start : start + batch_size]]  # (K, B, 1, 8, 8)
                stack.optimiser.zero_grad(set_to_none=True)
                loss = losses(batch, stack.forward(batch))
                loss.sum().backward()  # type: ignore[no-untyped-call]  # unannotated in torch
                stack.optimiser.step()
                running += loss.detach() * batch.shape[1]
            train_loss = (running / n).tolist()
            with torch.no_grad():
                val_sum = [0.0] * len(active)
                for chunk in torch.split(val, _VAL_BATCH):
                    same = chunk.expand(len(active), *chunk.shape)  # every member's input
                    chunk_loss = losses(same, stack.forward(same)).tolist()
                    val_sum = [s + v * len(chunk) for s, v in zip(val_sum, chunk_loss, strict=True)]
            seconds = time.perf_counter() - t0
            for k, member in enumerate(active):
                record = EpochRecord(epoch, train_loss[k], val_sum[k] / len(val), seconds)
                member.history.append(record)
                stack.unstack(k)
                _save(member, epoch)
                if member.log is not None:
                    member.log(record)
                if on_epoch is not None:
                    on_epoch(member.index, record)
            epoch += 1
            remaining = [m for m in active if m.config.epochs >= epoch]
            if len(remaining) < len(active):  # members leave: restack the others
                active = remaining
                break


def _prepare(
    configs: Sequence[ModuleTrainingConfig],
    checkpoints: Sequence[Path | None] | None,
    finetune_loss: Loss | None,
) -> list[Path | None]:
    if not configs:
        raise ConfigError("train_module_grid needs at least one ModuleTrainingConfig")
    for config in configs:
        if type(config) is not ModuleTrainingConfig:
            msg = f"train_module_grid trains module AEs (ModuleTrainingConfig), got {type(config).__name__}"
            raise ConfigError(msg)
        if config.finetune_epochs and finetune_loss is None:
            msg = f"finetune_epochs={config.finetune_epochs} needs the finetune_loss callable (e.g. hgcal_ae.metrics.emd_loss.exact_emd_image_loss)"
            raise ConfigError(msg)
    paths: list[Path | None] = (
        list(checkpoints) if checkpoints is not None else [None] * len(configs)
    )
    if len(paths) != len(configs):
        msg = f"train_module_grid got {len(configs)} configs and {len(paths)} checkpoints; expected one checkpoint (or None) per config"
        raise ConfigError(msg)
    named = [p for p in paths if p is not None]
    if len(set(named)) != len(named):
        msg = f"train_module_grid got one checkpoint file for two members ({named}); each member needs its own"
        raise ConfigError(msg)
    return paths


def _initial_model(config: ModuleTrainingConfig, device: torch.device) -> ModuleAutoencoder:
    """The member's initial weights, made as train_rows makes them (seeded by its seed)."""
    return seeded_model(lambda: ModuleAutoencoder(config.ae_config()), config.seed, device)


def _stage_member(
    index: int,
    config: ModuleTrainingConfig,
    loss: str,
    model: ModuleAutoencoder,
    checkpoint: Path | None,
) -> _Member:
    """A member at the start of a stage, resumed from its checkpoint when there is one."""
    _check_model(model)
    member = _Member(index, config, loss, model, checkpoint)
    if checkpoint is not None and checkpoint.is_file():
        state = _load_checkpoint(checkpoint, config)
        model.load_state_dict(state["model"])
        member.adam = state["optimizer"]
        member.history = [EpochRecord(**r) for r in state["history"]]
        member.start_epoch = int(state["epoch"]) + 1
    return member


def _run_stage(
    members: list[_Member],
    train: torch.Tensor,
    val: torch.Tensor,
    finetune_loss: Loss | None,
    device: torch.device,
    on_epoch: GridEpochCallback | None,
) -> None:
    groups: dict[tuple[Any, ...], list[_Member]] = {}
    for member in members:
        groups.setdefault(member.stack_key(), []).append(member)
    try:
        for member in members:  # TensorBoard event files beside the checkpoint, as fit writes
            if member.checkpoint is not None:
                member.log = epoch_logger(member.checkpoint)
        for group in groups.values():
            losses = _member_losses(group[0].loss, finetune_loss)
            _train_stack(group, train, val, losses, device, on_epoch)
    finally:
        for member in members:
            if member.log is not None:
                member.log.close()
    for member in members:
        member.model.eval()


def train_module_grid(
    configs: Sequence[ModuleTrainingConfig],
    train_tc: npt.ArrayLike,
    val_tc: npt.ArrayLike,
    *,
    checkpoints: Sequence[Path | None] | None = None,
    finetune_loss: Loss | None = None,
    device: torch.device | str = "cpu",
    on_epoch: GridEpochCallback | None = None,
) -> list[tuple[ModuleAutoencoder, LoopResult]]:
    """Train the module AEs of ``configs`` together on TC charges ``(N, 48)``.

    Parameters
    ----------
    configs
        One :class:`ModuleTrainingConfig` per member (any mix; see :func:`stacking_groups`).
    train_tc, val_tc
        Training and validation modules, shared by every member (empty modules are left out,
        as :func:`~hgcal_ae.models.module_training.train_module_autoencoder` does).
    checkpoints
        Per member, its checkpoint file (``fit``'s format, written after every epoch and
        resumed when present) or None; the fine-tuning stage's is ``finetune_<name>``.
    finetune_loss
        The loss of the fine-tuning stage of members with ``finetune_epochs`` > 0.
    device
        Where to train.
    on_epoch
        Called as ``on_epoch(k, record)`` after member ``k``'s epoch and its checkpoint.

    Returns
    -------
    list of (ModuleAutoencoder, LoopResult)
        Per member, in the order of ``configs``, what ``train_module_autoencoder`` returns;
        save each with :func:`~hgcal_ae.models.module_training.save_module_ae`.

    Raises
    ------
    ConfigError
        For no configs, a config of another class, fine-tuning without ``finetune_loss``,
        a checkpoint list of another length or naming one file twice, no non-empty modules,
        or a checkpoint written under other settings.
    DataError
        For an unreadable checkpoint.
    """
    paths = _prepare(configs, checkpoints, finetune_loss)
    device = torch.device(device)
    torch.set_flush_denormal(True)  # as fit: subnormal floats make CPU kernels 20x slower
    train_img, train_scale = module_inputs(train_tc)
    val_img, val_scale = module_inputs(val_tc)
    train_img, val_img = train_img[train_scale > 0], val_img[val_scale > 0]
    if len(train_img) == 0 or len(val_img) == 0:
        msg = "module-AE training needs non-empty modules in both the training and validation sets"
        raise ConfigError(msg)
    train_img, val_img = train_img.to(device), val_img.to(device)
    first = [
        _stage_member(k, c, c.loss, _initial_model(c, device), p)
        for k, (c, p) in enumerate(zip(configs, paths, strict=True))
    ]
    _run_stage(first, train_img, val_img, finetune_loss, device, on_epoch)
    results = [(m.model, LoopResult(m.history, [], resumed_from=m.start_epoch - 1)) for m in first]
    second = [
        _stage_member(
            m.index,
            dataclasses.replace(m.config, epochs=m.config.finetune_epochs, learning_rate=m.config.finetune_learning_rate),
            "finetune", m.model,
            m.checkpoint.with_name(f"finetune_{m.checkpoint.name}") if m.checkpoint else None,
        )
        for m in first if m.config.finetune_epochs
    ]  # fmt: skip
    _run_stage(second, train_img, val_img, finetune_loss, device, on_epoch)
    for m in second:
        offset = len(results[m.index][1].history)
        history = results[m.index][1].history + [
            dataclasses.replace(r, epoch=r.epoch + offset) for r in m.history
        ]
        results[m.index] = (m.model, LoopResult(history, [], resumed_from=m.start_epoch - 1))
    return results
