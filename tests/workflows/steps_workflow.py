"""A small real workflow run as its own process by the lock and progress tests.

``python steps_workflow.py --output-dir DIR [--steps N] [--seconds S] [--final-seconds F]``
plus the CLI's run options (``--workers``, ``--quiet``, ``--scheduler-host`` ...) builds
``AllSteps`` (N ``SlowStep`` s that sleep S seconds each, then a summary that sleeps F
seconds) through :func:`hgcal_ae.cli.common.run_workflow`, as the ``hgcal-ae`` commands do.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import luigi

from hgcal_ae.cli.common import add_run_options, run_workflow
from hgcal_ae.workflows.base import HgcalTask


class SlowStep(HgcalTask):
    step = luigi.IntParameter()
    seconds = luigi.FloatParameter(default=0.0)

    def output(self) -> luigi.LocalTarget:
        return self.local_target("steps", f"step_{self.step}.txt")

    def run(self) -> None:
        time.sleep(self.seconds)
        with self.output().open("w") as fh:
            fh.write(f"step {self.step}\n")


class AllSteps(HgcalTask):
    steps = luigi.IntParameter()
    seconds = luigi.FloatParameter(default=0.0)
    final_seconds = luigi.FloatParameter(default=0.0)

    def requires(self) -> list[SlowStep]:
        return [self.clone(SlowStep, step=k) for k in range(self.steps)]

    def output(self) -> luigi.LocalTarget:
        return self.local_target("steps", "all.txt")

    def run(self) -> None:
        time.sleep(self.final_seconds)
        with self.output().open("w") as fh:
            fh.writelines(Path(t.path).read_text(encoding="utf-8") for t in self.input())


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=0.0)
    parser.add_argument("--final-seconds", type=float, default=0.0)
    add_run_options(parser)
    args = parser.parse_args(argv)
    task = AllSteps(
        output_dir=args.output_dir,
        steps=args.steps,
        seconds=args.seconds,
        final_seconds=args.final_seconds,
    )
    run_workflow([task], args)
    # What the hgcal-ae commands do next: read the outputs, which must be there now.
    print(Path(task.output().path).read_text(encoding="utf-8"), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
