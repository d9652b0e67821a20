"""Milestone 02 -- XOR (Minsky and Papert, 1969), and the hidden layer that solves it.

XOR is 1 when exactly one input is 1. No single layer ``step(w1 x1 + w2 x2 + b)`` computes it,
and not for lack of training: for any weights, the activation ``f`` satisfies

    f(0,1) + f(1,0) - f(0,0) - f(1,1) = (w2 + b) + (w1 + b) - b - (w1 + w2 + b) = 0,

but classifying all four points right needs f(0,1) > 0, f(1,0) > 0, f(0,0) <= 0, f(1,1) <= 0,
which makes the left side > 0. So one point at least is always wrong: at most 75% accuracy.
Minsky and Papert's book made this famous and cooled neural-network research for a decade.
One hidden layer removes the limit: a 2-4-1 network trained by gradient descent (backprop,
module 05) gets all four right. Targets, the same in every tier: every single layer <= 75%,
the MLP 100% for every seed. The tiers differ in how long each model trains (every seed's
MLP reaches 100% within 120 steps): quick 200 steps and seeds 0-4, standard 300 steps and
seeds 0-9, full 1,000 steps and seeds 0-9 (the historical run).

Needs modules 01-05: gradients come from autograd, and the update ``p -= lr * p.grad`` is
written out by hand (optimizers are module 06).

    python milestones/02_xor/run.py --out runs/milestones/02_xor
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # milestones/, for common.py
import common  # noqa: E402

import numpy as np  # noqa: E402

import tinytorch as tt  # noqa: E402
import tinytorch.nn as nn  # noqa: E402

NAME = "02_xor"
TITLE = "XOR: a single layer cannot, a hidden layer can (Minsky & Papert, 1969)"

TIER_CONFIG = {"quick": {"steps": 200, "seeds": 5, "random_layers": 10_000},
               "standard": {"steps": 300, "seeds": 10, "random_layers": 100_000},
               "full": {"steps": 1000, "seeds": 10, "random_layers": 100_000}}
# a line can never beat 75% (the identity in the docstring), and the MLP must get all four
# points right for every seed: neither depends on how long the tier trains
TIER_TARGETS = {tier: {"best single-layer accuracy": 0.75, "worst MLP accuracy": 1.0}
                for tier in common.TIERS}

X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)
Y = np.array([[0], [1], [1], [0]], dtype=np.float32)


def accuracy(model, x: tt.Tensor) -> float:
    with tt.no_grad():
        return float(np.mean((model(x).numpy() > 0) == (Y > 0.5)))


def train(model, steps: int, lr: float):
    """Full-batch gradient descent on the four points; per-step losses and accuracies."""
    x, y = tt.tensor(X), tt.tensor(Y)
    loss_fn = nn.BCEWithLogitsLoss()
    losses, accs = [], []
    for _ in range(steps):
        loss = loss_fn(model(x), y)
        model.zero_grad()
        loss.backward()
        with tt.no_grad():  # the update is not part of the graph
            for p in model.parameters():
                p.data -= lr * p.grad.numpy()
        losses.append(loss.item())
        accs.append(accuracy(model, x))
    return losses, accs


def first_step_at(accs, value=1.0):
    """The first step (1-based) from which accuracy stays at ``value``, or None."""
    for i in range(len(accs)):
        if all(a == value for a in accs[i:]):
            return i + 1
    return None


def mlp(hidden: int) -> nn.Module:
    return nn.Sequential(nn.Linear(2, hidden), nn.Tanh(), nn.Linear(hidden, 1))


def add_arguments(parser):
    parser.add_argument("--steps", type=int, default=None,
                        help="gradient steps per model (default 300; 1000 with --full, "
                             "200 with --quick)")
    parser.add_argument("--lr", type=float, default=1.0, help="learning rate (default 1.0)")
    parser.add_argument("--hidden", type=int, default=4, help="hidden units of the MLP")
    parser.add_argument("--seeds", type=int, default=None,
                        help="seeds 0..N-1 (default 10; 5 with --quick)")
    parser.add_argument("--random-layers", type=int, default=None,
                        help="random single layers tried in the exhaustive check (default "
                             "100,000; 10,000 with --quick)")


def main(argv=None) -> dict:
    with common.Run(NAME, TITLE, argv, add_arguments) as run:
        a = run.args
        cfg, targets = run.tiered(TIER_CONFIG), run.tiered(TIER_TARGETS)
        steps = a.steps or cfg["steps"]
        seeds = list(range(a.seeds or cfg["seeds"]))
        n_random = a.random_layers or cfg["random_layers"]
        x = tt.tensor(X)
        curves = {}

        # ---------------------------------------------------------------- one layer
        run.stage(f"single layer (2 -> 1): gradient descent, {steps} steps, seeds "
                  f"{seeds[0]}-{seeds[-1]}")
        single_accs, identities = [], []
        for seed in run.progress(seeds, desc="single layer"):
            tt.manual_seed(seed)
            layer = nn.Linear(2, 1)
            losses, accs = train(layer, steps, a.lr)
            single_accs.append(accs[-1])
            curves[f"single, seed {seed}"] = (losses, accs)
            with tt.no_grad():
                f = layer(x).numpy().reshape(-1)  # activations at (0,0), (0,1), (1,0), (1,1)
            identities.append(float(f[1] + f[2] - f[0] - f[3]))
        print(f"         final accuracies: {', '.join(f'{v:.0%}' for v in single_accs)}; final "
              f"loss {np.mean([curves[k][0][-1] for k in curves]):.4f} (log 2 = 0.6931: the "
              "best a line can do is to say 1/2 everywhere)")
        print(f"         f(0,1) + f(1,0) - f(0,0) - f(1,1) of the trained layers: max "
              f"|.| = {max(abs(v) for v in identities):.1e} (0 for every line, hence <= 3 of 4)")

        run.stage(f"single layer: exhaustive check over {n_random:,} random weight vectors")
        g = tt.Generator().manual_seed(run.seed)
        w = tt.randn(n_random, 2, generator=g) * 3.0
        b = tt.randn(n_random, generator=g) * 3.0
        with tt.no_grad():
            logits = x @ w.T + b  # (4, K): every layer on every point at once
        random_acc = ((logits.numpy() > 0) == (Y > 0.5)).mean(axis=0)  # (K,)
        print(f"         best random layer: {random_acc.max():.0%}; share reaching 75%: "
              f"{np.mean(random_acc == 0.75):.1%}; none above 75%: "
              f"{bool(np.all(random_acc <= 0.75))}")
        best_single = max(max(single_accs), float(random_acc.max()))

        # ---------------------------------------------------------------- the MLP
        run.stage(f"MLP (2 -> {a.hidden} -> 1, tanh): gradient descent, {steps} steps, seeds "
                  f"{seeds[0]}-{seeds[-1]}")
        mlp_accs, mlp_steps, mlp_models = [], [], []
        for seed in run.progress(seeds, desc="MLP"):
            tt.manual_seed(seed)
            model = mlp(a.hidden)
            losses, accs = train(model, steps, a.lr)
            mlp_accs.append(accs[-1])
            mlp_steps.append(first_step_at(accs))
            mlp_models.append(model)
            curves[f"MLP, seed {seed}"] = (losses, accs)
        print(f"         final accuracies: {', '.join(f'{v:.0%}' for v in mlp_accs)}")
        print(f"         steps to 100% (and staying there): {mlp_steps}")

        # ---------------------------------------------------------------- the minimal MLP
        run.stage("for comparison, the narrowest MLP (2 -> 2 -> 1): some seeds get stuck")
        narrow = []
        for seed in run.progress(seeds, desc="2-2-1"):
            tt.manual_seed(seed)
            narrow.append(train(mlp(2), steps, a.lr)[1][-1])
        print(f"         final accuracies: {', '.join(f'{v:.0%}' for v in narrow)} "
              f"({sum(v == 1.0 for v in narrow)} of {len(seeds)} seeds solve XOR)")

        run.check("best single-layer accuracy", best_single, "<=",
                  targets["best single-layer accuracy"], "{:.0%}")
        run.check(f"worst MLP accuracy over seeds {seeds[0]}-{seeds[-1]}", min(mlp_accs), ">=",
                  targets["worst MLP accuracy"], "{:.0%}")

        # ---------------------------------------------------------------- plots
        step_axis = list(range(1, steps + 1))
        loss_curves = {k: (step_axis, v[0]) for k, v in curves.items() if k.endswith(" 0")}
        acc_curves = {k: (step_axis, v[1]) for k, v in curves.items() if k.endswith(" 0")}

        def draw_regions(ax):
            grid = np.linspace(-0.5, 1.5, 121, dtype=np.float32)
            gx, gy = np.meshgrid(grid, grid)
            pts = tt.tensor(np.c_[gx.ravel(), gy.ravel()])
            with tt.no_grad():
                z = mlp_models[0](pts).numpy().reshape(gx.shape)
            ax.contourf(gx, gy, z > 0, levels=[-0.5, 0.5, 1.5], colors=["#fde0c5", "#c6dbef"])
            ax.scatter(X[:, 0], X[:, 1], c=["tab:orange" if v == 0 else "tab:blue"
                                              for v in Y[:, 0]], s=80, edgecolors="k")

        run.plot([
            common.Panel("loss (BCE)", loss_curves, xlabel="step", logy=True,
                         title="seed 0: the line stalls at log 2"),
            common.Panel("accuracy", acc_curves, xlabel="step", hline=0.75,
                         hline_label="a line's limit (75%)", title="a line tops out at 75%"),
            common.Panel("x2", {}, xlabel="x1", title="the MLP's decision regions (seed 0)",
                         draw=draw_regions),
        ])
        return run.finish({
            "single_layer_best_accuracy": best_single,
            "single_layer_accuracies": single_accs,
            "random_layers_tried": n_random,
            "random_layer_best_accuracy": float(random_acc.max()),
            "identity_max_abs": max(abs(v) for v in identities),
            "mlp_min_accuracy": min(mlp_accs),
            "mlp_accuracies": mlp_accs,
            "mlp_steps_to_100": mlp_steps,
            "narrow_mlp_seeds_solved": int(sum(v == 1.0 for v in narrow)),
            "steps": steps, "lr": a.lr, "hidden": a.hidden,
        })


if __name__ == "__main__":
    sys.exit(0 if main()["passed"] else 1)
