"""Mean AUROC over the ten digits of scikit-learn's embedded digits: skanogan vs PyOD KNN and PCA.

One-class protocol of ``skanogan.cli.demo.digits_one_class_split``: one digit normal, trained on its
images of a stratified half, tested on the other half. Each seed changes both the split and the
model's ``random_state``. Prints a markdown report and writes it to ``--output``.

    python examples/digits_quality.py --seeds 0 1 2 --output docs/quality.md
"""

from __future__ import annotations

import argparse
import platform
import time
from pathlib import Path

import numpy as np
import sklearn
import torch
from sklearn.metrics import roc_auc_score

import skanogan
from skanogan import LatentRegularizedGAN
from skanogan.cli.demo import DEMO_EPOCHS, baseline_scores, digits_one_class_split


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--epochs", type=int, default=DEMO_EPOCHS)
    parser.add_argument("--output", type=Path, default=None)
    args = parser.parse_args()

    auroc: dict[str, np.ndarray] = {}
    start = time.perf_counter()
    for s, seed in enumerate(args.seeds):
        for digit in range(10):
            X_train, X_test, y_test = digits_one_class_split(digit, seed)
            detector = LatentRegularizedGAN(epochs=args.epochs, device="cpu", random_state=seed)
            scores = {"skanogan": detector.fit(X_train).decision_function(X_test)}
            scores.update(baseline_scores(X_train, X_test))
            for name, values in scores.items():
                table = auroc.setdefault(name, np.zeros((len(args.seeds), 10)))
                table[s, digit] = roc_auc_score(y_test, values)
    seconds = time.perf_counter() - start
    # amp="auto" trains in bfloat16 on CPUs that have it, so the figures depend on the CPU.
    precision = str(detector.amp_dtype_ or torch.float32).removeprefix("torch.")

    header = "| detector | mean AUROC over digits | " + " | ".join(map(str, range(10))) + " |"
    lines = [header, "|---" * 12 + "|"]
    for name, table in auroc.items():
        per_seed_mean = table.mean(axis=1)
        cells = [f"{table[:, d].mean():.3f}" for d in range(10)]
        lines.append(
            f"| {name} | {per_seed_mean.mean():.3f} ± {per_seed_mean.std():.3f} | "
            + " | ".join(cells)
            + " |"
        )
    report = "\n".join(
        [
            "# Quality on scikit-learn's digits",
            "",
            "One digit normal, the other nine anomalous; trained on the normal digit's images of "
            "a stratified half of the 1,797 digits, tested on the other half. Mean ± std over "
            f"seeds {args.seeds} of the mean AUROC over the ten digits; per-digit columns are "
            "means over seeds. skanogan: default parameters but "
            f"`epochs={args.epochs}`, score `{LatentRegularizedGAN().score_type}` (the default), "
            "CPU. PyOD: default KNN and PCA on pixels / 16.",
            "",
            *lines,
            "",
            f"Command: `python examples/digits_quality.py --seeds {' '.join(map(str, args.seeds))}"
            f" --epochs {args.epochs}`; {seconds:.0f} s in all on "
            f"{_cpu_name()} ({torch.get_num_threads()} torch threads, {precision}); "
            f"skanogan {skanogan.__version__}, torch {torch.__version__}, "
            f"scikit-learn {sklearn.__version__}, numpy {np.__version__}, "
            f"Python {platform.python_version()}.",
        ]
    )
    print(report)
    if args.output is not None:
        args.output.write_text(report + "\n")


if __name__ == "__main__":
    main()
