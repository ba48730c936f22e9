"""``hgcal-ae compare``: AE variants (loss, conditions, weights) over training seeds, beside
every baseline, on the study's test modules."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from hgcal_ae.cli.common import add_run_options, csv_items, read_summary, run_workflow
from hgcal_ae.cli.study import add_occupancy_option, study_parameters
from hgcal_ae.errors import ConfigError

__all__ = ["add_parsers", "parse_seeds"]


def add_parsers(sub: Any) -> None:
    p = sub.add_parser(
        "compare",
        help="AE variants (telescope / exact-EMD loss, conditional decoder, 6-bit weights) over "
        "training seeds, beside every baseline",
    )
    p.add_argument("--preset", default="default", help="smoke, default or full")
    p.add_argument(
        "--variants", default=None,
        help="comma-separated, of telescope, emd (telescope + exact EMD), cond, cond_emd "
        "(conditional decoder; --occupancy pu200), qw, qw_emd (6-bit encoder weights); "
        "default telescope,emd,cond,cond_emd under pu200, else telescope,emd",
    )  # fmt: skip
    p.add_argument(
        "--seeds", default="0,1,2", help="training seeds, comma-separated (default 0,1,2)"
    )
    p.add_argument(
        "--latents", default="16x3,16x5,16x9",
        help="codes DIMxBITS; each e-link setting gets the largest that fits (default "
        "16x3,16x5,16x9: 2, 3-4 and 5 e-links)",
    )  # fmt: skip
    p.add_argument("--device", default="auto", help="auto (CUDA if present), cpu, cuda or cuda:N")
    add_occupancy_option(p)
    add_run_options(p)
    p.set_defaults(handler=_compare)


def parse_seeds(text: str) -> tuple[int, ...]:
    """``--seeds``: whole numbers >= 0, each once, in the order given."""
    seeds = []
    for item in csv_items(text, "--seeds"):
        try:
            value = int(item)
        except ValueError:
            value = -1
        if value < 0:
            msg = f"--seeds {item!r}: expected whole numbers >= 0"
            raise ConfigError(msg)
        seeds.append(value)
    if len(set(seeds)) != len(seeds):
        msg = f"--seeds {text!r}: each seed once"
        raise ConfigError(msg)
    return tuple(seeds)


def _compare(args: argparse.Namespace) -> int:
    from hgcal_ae.study.comparison import check_variants, parse_latents
    from hgcal_ae.workflows.comparison import ComparisonReport

    common = study_parameters(args)
    default = "telescope,emd,cond,cond_emd" if common["occupancy"] == "pu200" else "telescope,emd"
    variants = check_variants(
        csv_items(args.variants or default, "--variants"), common["occupancy"]
    )
    latents = parse_latents(args.latents)
    report = ComparisonReport(**common, variants=variants, seeds=parse_seeds(args.seeds),
                              latents=latents, device=args.device)  # fmt: skip
    if not report.plan():
        msg = f"--latents {args.latents!r}: no code fits the preset's e-link settings"
        raise ConfigError(msg)
    run_workflow([report], args)
    summary_path = Path(report.output()["summary.json"].path)
    summary = read_summary(summary_path)
    print(f"{summary['n_test_modules']} test modules; seeds {summary['seeds']}")
    for r in summary["autoencoders"]:
        s = r["emd_mean_cm_seeds"]
        print(f"  {r['n_elinks']} e-links: {r['label']} {r['latent_dim']}x{r['latent_bits']}: "
              f"mean EMD {s['mean']:.3f} +- {s['std']:.3f} cm")  # fmt: skip
    goals = summary["goals"]
    for g in goals["emd_loss_gain"]["rows"]:
        print(f"  exact-EMD gain at {g['n_elinks']} e-links ({g['telescope']} -> {g['exact_emd']}): "
              f"{100 * g['gain']:.1f} % (goal >= 30 %)")  # fmt: skip
    high = goals["high_occupancy"]["result"]
    if high:
        print(f"  >= 10 TCs at 2 e-links: best AE ({high['best_label']}) {high['emd_ae_cm']:.3f} cm "
              f"vs Best Choice {high['emd_best_choice_cm']:.3f} cm")  # fmt: skip
    print(f"done: the report is in {summary_path.parent}")
    return 0
