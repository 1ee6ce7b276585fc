"""Continuous search routines over an energy landscape (gradient descent, Langevin, annealing,
restarts). Each returns a `Trajectory` that a plot or a
widget can replay step by step.

An energy function maps a batch of candidates ``y`` to one energy per batch element
``[B]``. Elements are independent: the gradient of ``E(y).sum()`` with respect to ``y`` is
each element's own gradient. By default the first axis of ``y`` is the batch; for graphs,
whose candidates are concatenated per node, ``groups`` maps each entry of the first axis to
its batch element.
"""

from __future__ import annotations

from typing import Callable, Sequence

import torch

from .trajectory import Trajectory, expand

EnergyFn = Callable[[torch.Tensor], torch.Tensor]


def energy_and_grad(energy_fn: EnergyFn, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Energies [B] and their gradient with respect to ``y`` (no graph kept)."""
    with torch.enable_grad():
        y = y.detach().requires_grad_(True)
        e = energy_fn(y)
        (g,) = torch.autograd.grad(e.sum(), y)
    return e.detach(), g.detach()


def gradient_descent(energy_fn: EnergyFn, y0: torch.Tensor, steps: int, lr: float,
                     project: Callable[[torch.Tensor], torch.Tensor] | None = None,
                     groups: torch.Tensor | None = None, backtrack: bool = False,
                     grow: float = 1.2) -> Trajectory:
    """Gradient descent ``y <- y - lr * dE/dy`` (optionally projected after each step).

    With ``backtrack``, each batch element keeps its own step size: a step that would raise
    its energy is rejected and the step size halved; an accepted step grows it by ``grow``.
    The energy then never increases, whatever the landscape's curvature.
    """
    if backtrack:
        return _backtracking_descent(energy_fn, y0, steps, lr, project, groups, grow)
    ys, es = [y0.detach()], []
    y = y0.detach()
    for _ in range(steps):
        e, g = energy_and_grad(energy_fn, y)
        es.append(e)
        y = y - lr * g
        if project is not None:
            y = project(y)
        ys.append(y)
    es.append(_energy(energy_fn, y))
    return Trajectory(ys, torch.stack(es), groups=groups)


def _backtracking_descent(energy_fn: EnergyFn, y0: torch.Tensor, steps: int, lr: float, project, groups,
                          grow: float) -> Trajectory:
    """`gradient_descent` with per-element step sizes and rejection. The trial's forward pass
    keeps its graph: an accepted trial's gradient then costs one backward pass, and a rejected
    one costs nothing (its state, so its gradient, is unchanged). One forward pass per step."""
    y = y0.detach()
    e, g = energy_and_grad(energy_fn, y)
    ys, es, acc = [y], [], []
    step = torch.full((e.numel(),), float(lr), dtype=y.dtype, device=y.device)
    for _ in range(steps):
        prop = y - expand(step, groups).view(-1, *([1] * (y.dim() - 1))) * g
        if project is not None:
            prop = project(prop)
        es.append(e)
        y, e, g, ok = _trial(energy_fn, y, e, g, prop, groups)
        ys.append(y)
        acc.append(ok)
        step = torch.where(ok, step * grow, step * 0.5)
    es.append(e)
    return Trajectory(ys, torch.stack(es), torch.stack(acc) if acc else None, groups=groups)


def langevin(energy_fn: EnergyFn, y0: torch.Tensor, steps: int, lr: float, noise: float = 1.0,
             generator: torch.Generator | None = None,
             project: Callable[[torch.Tensor], torch.Tensor] | None = None,
             groups: torch.Tensor | None = None) -> Trajectory:
    """Unadjusted Langevin dynamics ``y <- y - lr * dE/dy + noise * sqrt(2 lr) * N(0, 1)``.

    With ``noise = 1`` the stationary density is proportional to ``exp(-E)`` (for small lr).
    """
    ys, es = [y0.detach()], []
    y = y0.detach()
    for _ in range(steps):
        e, g = energy_and_grad(energy_fn, y)
        es.append(e)
        eps = torch.randn(y.shape, generator=generator, dtype=y.dtype).to(y.device)
        y = y - lr * g + noise * (2 * lr) ** 0.5 * eps
        if project is not None:
            y = project(y)
        ys.append(y)
    es.append(_energy(energy_fn, y))
    return Trajectory(ys, torch.stack(es), groups=groups)


def annealed(energy_fns: Sequence[EnergyFn], y0: torch.Tensor, steps_per_level: int, lrs: Sequence[float],
             project: Callable[[torch.Tensor], torch.Tensor] | None = None,
             groups: torch.Tensor | None = None) -> Trajectory:
    """IRED-style annealed descent: a few gradient steps on each landscape, coarse to fine,
    rejecting (per batch element) any step that raises that landscape's energy.

    Energies in the trajectory are those of the *final* (finest) landscape, so steps are
    comparable; ``info["level"]`` says which landscape each step used.
    """
    final_fn = energy_fns[-1]
    y = y0.detach()
    ys, es, acc, levels = [y], [_energy(final_fn, y)], [], []
    e = g = previous = None
    for level, (fn, lr) in enumerate(zip(energy_fns, lrs)):
        if steps_per_level and fn is not previous:  # a new landscape: the state's energy and gradient on it
            e, g = energy_and_grad(fn, y)
            previous = fn
        for _ in range(steps_per_level):
            prop = y - lr * g
            if project is not None:
                prop = project(prop)
            y, e, g, ok = _trial(fn, y, e, g, prop, groups)
            ys.append(y)
            es.append(e if fn is final_fn else _energy(final_fn, y))
            acc.append(ok)
            levels.append(level)
    return Trajectory(ys, torch.stack(es), torch.stack(acc) if acc else None, {"level": levels}, groups)


def random_restarts(search: Callable[[torch.Tensor], Trajectory], init: Callable[[int], torch.Tensor],
                    restarts: int) -> Trajectory:
    """Run ``search`` from ``restarts`` starting points ``init(r)``; keep, per batch element,
    the restart whose best energy is lowest. Returns that restart's trajectory per element,
    with ``info["restart"]`` [B] and ``info["best_energies"]`` [restarts, B]."""
    trajs = [search(init(r)) for r in range(restarts)]
    groups = trajs[0].groups
    best_e = torch.stack([t.energies.min(0).values for t in trajs])  # [R, B]
    choice = best_e.argmin(0)  # [B]
    item_choice = expand(choice, groups)
    items = torch.arange(trajs[0].candidates[0].shape[0])
    cands = [torch.stack([t.candidates[s] for t in trajs])[item_choice, items] for s in range(trajs[0].steps + 1)]
    energies = torch.stack([t.energies for t in trajs])[choice, :, torch.arange(choice.numel())].T  # [T + 1, B]
    return Trajectory(cands, energies, None, {"restart": choice, "best_energies": best_e}, groups)


def _trial(energy_fn: EnergyFn, y, e, g, prop, groups):
    """One trial step of a search that rejects uphill moves: the energy at ``prop`` with its graph
    kept; where it is not above ``e``, that element moves to ``prop`` and takes the trial's energy
    and gradient (one backward pass for the batch; none when every trial is rejected, since a
    rejected element's state, hence its gradient, is unchanged). Returns (y, e, g, accepted)."""
    with torch.enable_grad():  # callers may run under no_grad
        trial = prop.detach().requires_grad_(True)
        e_trial = energy_fn(trial)
        total = e_trial.sum()
    ok = e_trial.detach() <= e
    if bool(ok.any()):
        (g_trial,) = torch.autograd.grad(total, trial)
        keep = expand(ok, groups).view(-1, *([1] * (y.dim() - 1)))
        y, e, g = torch.where(keep, prop, y), torch.where(ok, e_trial.detach(), e), torch.where(keep, g_trial, g)
    return y, e, g, ok


def _energy(fn: EnergyFn, y: torch.Tensor) -> torch.Tensor:
    with torch.no_grad():
        return fn(y.detach()).detach()


#: Registry of continuous search routines, shared by the CLI, solvers and notebooks.
SEARCHES = {"gd": gradient_descent, "langevin": langevin, "annealed": annealed, "restarts": random_restarts}
