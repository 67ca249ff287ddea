"""Choose where skanogan trains: ``device="auto"``, an explicit device, and mixed precision.

``device="auto"`` takes CUDA when PyTorch sees a GPU, else the CPU. ``amp="auto"`` turns on
mixed precision on CUDA (bfloat16 where supported) and on CPUs with native bfloat16. Data stays
on the CPU and moves one batch at a time, so the GPU holds the networks and one batch. A model
fitted on a GPU loads on a CPU-only machine (with a ``DeviceWarning``).

Run::

    python examples/choosing_a_device.py           # 10 epochs on each available device
    python examples/choosing_a_device.py --quick   # 1 epoch (tests)
"""

from __future__ import annotations

import argparse
import time

import torch

from skanogan import LatentRegularizedGAN
from skanogan.datasets import load_digits
from skanogan.model_selection import one_class_split


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1 epoch")
    args = parser.parse_args()

    data = load_digits()
    X_train, _, _ = one_class_split(data.images, data.target, 0, random_state=0)
    auto = LatentRegularizedGAN(epochs=1, random_state=0).fit(X_train[:16])
    print(f'device="auto" chose {auto.device_} (amp dtype: {auto.amp_dtype_})')

    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    for device in devices:
        detector = LatentRegularizedGAN(
            epochs=1 if args.quick else 10, device=device, random_state=0
        )
        start = time.perf_counter()
        detector.fit(X_train)
        seconds = time.perf_counter() - start
        print(
            f"{device}: {detector.n_iter_} epochs on {len(X_train)} images in {seconds:.1f} s, "
            f"mixed precision: {detector.amp_dtype_ is not None}"
        )
    if len(devices) == 1:
        print("no CUDA device seen by PyTorch: only the CPU was used")


if __name__ == "__main__":
    main()
