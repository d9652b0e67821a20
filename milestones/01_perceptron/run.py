"""Milestone 01 -- the perceptron (Rosenblatt, 1957).

A single artificial neuron, ``y = step(w . x + b)``, learns to separate two classes of 2-D
points with Rosenblatt's rule: for each misclassified point, nudge the weights towards it
(``w += (y - y_hat) x``, ``b += (y - y_hat)``). The perceptron convergence theorem (Novikoff,
1962) guarantees that on linearly separable data with margin ``gamma`` inside a ball of radius
``R`` the rule makes at most ``(R / gamma)^2`` mistakes, and then classifies every training
point correctly. Target: 100% training accuracy, in every tier (the run takes seconds):
quick 200 points, standard and full (the same run) 500 points; the updates must stay within
the bound the run computes from its own data.

Needs modules 01-04 only (Tensor, activations, Linear): the rule needs no gradients.

    python milestones/01_perceptron/run.py --out runs/milestones/01_perceptron
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # milestones/, for common.py
import common  # noqa: E402

import numpy as np  # noqa: E402

import tinytorch as tt  # noqa: E402
import tinytorch.nn as nn  # noqa: E402

NAME = "01_perceptron"
TITLE = "The perceptron (Rosenblatt, 1957)"
# every tier's points and target: the rule converges on any separable data, so even the quick
# run can be held to 100%
TIER_CONFIG = {"quick": {"n": 200}, "standard": {"n": 500}, "full": {"n": 500}}
TIER_TARGETS = {tier: {"training accuracy": 1.0} for tier in common.TIERS}


def make_data(n: int, margin: float, rng: np.random.Generator):
    """``n`` points in [-1, 1]^2 labelled 0/1 by a random line, none closer than ``margin``.

    Returns inputs (n, 2) float32, labels (n,) float32, and the true line (w, b).
    """
    angle = rng.uniform(0, 2 * np.pi)
    w_true = np.array([np.cos(angle), np.sin(angle)])  # unit normal: w.x + b is a distance
    b_true = rng.uniform(-0.3, 0.3)
    points = np.empty((0, 2))
    while len(points) < n:  # rejection sampling: keep points outside the margin band
        cand = rng.uniform(-1, 1, size=(4 * n, 2))
        points = np.concatenate([points, cand[np.abs(cand @ w_true + b_true) >= margin]])
    x = points[:n].astype(np.float32)
    y = (x @ w_true + b_true > 0).astype(np.float32)
    return x, y, (w_true, b_true)


def predict(layer: nn.Linear, x: tt.Tensor) -> np.ndarray:
    """The perceptron's output: the step function of the neuron's activation (0 or 1)."""
    return (layer(x).numpy().reshape(-1) > 0).astype(np.float32)


def add_arguments(parser):
    parser.add_argument("--n", type=int, default=None,
                        help="number of points (default 500; 200 with --quick)")
    parser.add_argument("--epochs", type=int, default=100,
                        help="maximum passes over the data (it stops at zero mistakes)")
    parser.add_argument("--margin", type=float, default=0.02,
                        help="empty band around the true line (the margin gamma)")


def main(argv=None) -> dict:
    with common.Run(NAME, TITLE, argv, add_arguments) as run:
        a = run.args
        n = a.n or run.tiered(TIER_CONFIG)["n"]
        targets = run.tiered(TIER_TARGETS)
        rng = np.random.default_rng(run.seed)

        run.stage(f"data: {n} points in [-1, 1]^2, separable by a random line with margin "
                  f"{a.margin}")
        x_np, y_np, (w_true, b_true) = make_data(n, a.margin, rng)
        x = tt.tensor(x_np)
        print(f"         class balance: {int(y_np.sum())} positive, {int(n - y_np.sum())} negative")

        run.stage("model: one neuron, nn.Linear(2, 1) followed by a step function, starting "
                  "from zero weights (the convergence theorem's setting)")
        layer = nn.Linear(2, 1)
        nn.init.zeros_(layer.weight)
        nn.init.zeros_(layer.bias)
        acc0 = float(np.mean(predict(layer, x) == y_np))
        print(f"         untrained accuracy: {acc0:.1%}")

        # Novikoff's bound, with the bias folded in as a constant input 1: R = max |(x, 1)|,
        # gamma = the margin of the true separator (w, b) normalised to |(w, b)| = 1.
        radius = float(np.max(np.linalg.norm(np.c_[x_np, np.ones(n)], axis=1)))
        norm = float(np.linalg.norm(np.r_[w_true, b_true]))
        gamma = float(np.min(np.abs(x_np @ w_true + b_true))) / norm
        bound = (radius / gamma) ** 2

        run.stage(f"training with Rosenblatt's rule (at most {a.epochs} epochs; theory: at "
                  f"most {bound:.0f} updates)")
        mistakes, accs, updates = [], [], 0
        for epoch in run.progress(range(1, a.epochs + 1), desc="epochs"):
            order = rng.permutation(n)
            errors = 0
            for i in order:
                xi = x[int(i)]  # (2,)
                y_hat = float(layer(xi).item() > 0)
                err = float(y_np[i]) - y_hat  # +1: should fire, -1: should not, 0: right
                if err != 0:
                    # the rule: move the boundary towards the misclassified point
                    layer.weight.data += err * xi.numpy()[None, :]
                    layer.bias.data += err
                    errors += 1
            updates += errors
            mistakes.append(errors)
            accs.append(float(np.mean(predict(layer, x) == y_np)))
            if errors == 0:  # a whole pass without a mistake: converged
                break
        epochs_run = len(mistakes)
        acc = accs[-1]
        run.stage(f"stopped after {epochs_run} epochs: {updates} updates, "
                  f"{mistakes[-1]} mistakes in the last pass")

        w = layer.weight.numpy().reshape(-1)
        b = float(layer.bias.numpy()[0])
        print(f"         learned boundary: {w[0]:+.3f} x1 {w[1]:+.3f} x2 {b:+.3f} = 0")

        run.check("training accuracy", acc, ">=", targets["training accuracy"], "{:.2%}")
        run.check("updates within Novikoff's bound", updates, "<=", bound, "{:.0f}")

        def draw_boundary(ax):
            ax.scatter(x_np[y_np == 1, 0], x_np[y_np == 1, 1], s=8, c="tab:blue", label="y = 1")
            ax.scatter(x_np[y_np == 0, 0], x_np[y_np == 0, 1], s=8, c="tab:orange",
                       label="y = 0")
            xs = np.linspace(-1, 1, 2)
            if abs(w[1]) > 1e-9:
                ax.plot(xs, -(w[0] * xs + b) / w[1], "k-", lw=1, label="learned")
            ax.plot(xs, -(w_true[0] * xs + b_true) / w_true[1], "g--", lw=1, label="true")
            ax.set_xlim(-1, 1)
            ax.set_ylim(-1, 1)

        epochs_axis = list(range(1, epochs_run + 1))
        run.plot([
            common.Panel("mistakes in the epoch", {"mistakes": (epochs_axis, mistakes)},
                         title="Rosenblatt's rule: mistakes per pass", styles={"mistakes": "o-"}),
            common.Panel("training accuracy", {"accuracy": (epochs_axis, accs)}, hline=1.0,
                         title="accuracy after each pass", styles={"accuracy": "o-"}),
            common.Panel("x2", {}, xlabel="x1", title="the data and the boundary",
                         draw=draw_boundary),
        ])
        return run.finish({
            "train_accuracy": acc, "epochs": epochs_run, "updates": updates,
            "novikoff_bound": round(bound, 1), "margin": round(gamma, 4), "n": n,
            "mistakes_per_epoch": mistakes, "accuracy_per_epoch": accs,
        })


if __name__ == "__main__":
    sys.exit(0 if main()["passed"] else 1)
