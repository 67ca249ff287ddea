"""Save a fitted detector, load it elsewhere, and continue its training with ``warm_start``.

``save`` writes one safetensors file (no code runs on load; never overwrites without
``overwrite=True``); the optimizer state travels with it, so ``warm_start=True`` continues
exactly where the saved model stopped. The training curves and a grid of anomalies with their
reconstructions are written as PNGs beside the model.

Run::

    python examples/save_load_warm_start.py OUTPUT_DIR           # 20 + 20 epochs
    python examples/save_load_warm_start.py OUTPUT_DIR --quick   # 1 + 1 epochs (tests)
"""

from __future__ import annotations

import argparse
from pathlib import Path

from sklearn.metrics import roc_auc_score

from skanogan import LatentRegularizedGAN
from skanogan.datasets import load_digits
from skanogan.model_selection import one_class_split


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("output", type=Path, help="folder for the model file (created)")
    parser.add_argument("--quick", action="store_true", help="1 epoch per stage")
    args = parser.parse_args()
    epochs = 1 if args.quick else 20

    data = load_digits()
    X_train, X_test, y_test = one_class_split(data.images, data.target, 3, random_state=0)
    detector = LatentRegularizedGAN(epochs=epochs, device="cpu", random_state=0).fit(X_train)
    print(f"after {detector.n_iter_} epochs: AUROC {auroc(detector, X_test, y_test):.3f}")

    args.output.mkdir(parents=True, exist_ok=True)
    path = detector.save(args.output / "digit3.safetensors", overwrite=True)
    print(f"saved to {path} ({path.stat().st_size / 1e6:.1f} MB)")

    loaded = LatentRegularizedGAN.load(path)
    assert (loaded.decision_function(X_test) == detector.decision_function(X_test)).all()
    loaded.set_params(warm_start=True).fit(X_train)
    print(f"after {loaded.n_iter_} epochs: AUROC {auroc(loaded, X_test, y_test):.3f}")
    print(f"history_ holds {len(loaded.history_)} epochs; the last: {loaded.history_[-1]}")

    # What the model learned, as PNGs beside the model (needs matplotlib: skanogan[plot]).
    from skanogan.plotting import plot_reconstructions, plot_training_history

    for name, figure in {
        "training_history.png": plot_training_history(loaded),
        "reconstructions.png": plot_reconstructions(loaded, X_test[y_test == 1], n=8),
    }.items():
        figure.savefig(args.output / name, dpi=100)
        print(f"wrote {args.output / name}")


def auroc(detector: LatentRegularizedGAN, X, y) -> float:
    return roc_auc_score(y, detector.decision_function(X))


if __name__ == "__main__":
    main()
