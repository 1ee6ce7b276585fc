"""Search routines on energies with a known answer."""

import torch

from lib.search.continuous import annealed, gradient_descent, langevin, random_restarts


def quadratic(mu, scale):
    """E(y) = sum ((y - mu) / scale)^2 / 2 per batch element: minimum at mu, exp(-E) ~ N(mu, scale^2)."""
    return lambda y: (((y - mu) / scale) ** 2).sum(-1) / 2


def test_gradient_descent_decreases_a_quadratic_monotonically_to_its_minimum():
    mu = torch.tensor([1.0, -2.0, 0.5])
    traj = gradient_descent(quadratic(mu, torch.tensor([1.0, 2.0, 0.5])), torch.zeros(4, 3) + 5.0, steps=200, lr=0.2)
    assert traj.steps == 200 and traj.energies.shape == (201, 4)
    assert (traj.energies[1:] <= traj.energies[:-1] + 1e-7).all()
    assert torch.allclose(traj.final(), mu.expand(4, 3), atol=1e-3)
    assert torch.equal(traj.best_step(), torch.full((4,), 200))


def test_langevin_samples_have_the_right_mean_and_variance():
    mu, sigma = torch.tensor([2.0, -1.0]), torch.tensor([0.5, 1.5])
    g = torch.Generator().manual_seed(0)
    traj = langevin(quadratic(mu, sigma), torch.zeros(2000, 2), steps=1500, lr=0.02, generator=g)
    samples = torch.cat([traj.at(t) for t in range(1000, 1501, 50)])
    assert torch.allclose(samples.mean(0), mu, atol=0.05)
    assert torch.allclose(samples.std(0), sigma, rtol=0.05)


def test_best_of_restarts_is_the_argmin():
    # a double well in 1-D: a shallow minimum near -1 and a deeper one near +1.5
    def energy(y):
        x = y[:, 0]
        return (x + 1) ** 2 * (x - 1.5) ** 2 - 0.5 * x

    starts = [torch.full((3, 1), -2.0), torch.full((3, 1), 3.0), torch.full((3, 1), -0.5)]
    traj = random_restarts(lambda y0: gradient_descent(energy, y0, 300, 0.01), lambda r: starts[r], restarts=3)
    assert traj.info["restart"].tolist() == [1, 1, 1]  # the start that reaches the deep well
    grid = torch.linspace(-3, 4, 70001).unsqueeze(1)
    argmin = grid[energy(grid).argmin()]
    assert torch.allclose(traj.best(), argmin.expand(3, 1), atol=1e-3)
    assert torch.allclose(traj.energies.min(0).values, traj.info["best_energies"].min(0).values)


def test_annealed_search_never_accepts_an_uphill_step():
    mu = torch.tensor([1.0, 1.0])
    fns = [quadratic(mu, torch.tensor(s)) for s in (4.0, 2.0, 1.0)]
    traj = annealed(fns, torch.full((5, 2), -4.0), steps_per_level=5, lrs=[20.0, 5.0, 3.0])  # last lr too big
    levels = traj.info["level"]
    for t, lvl in enumerate(levels):
        before, after = fns[lvl](traj.at(t)), fns[lvl](traj.at(t + 1))
        assert (after <= before + 1e-6).all()
    assert (~traj.accepted[-1]).all()  # lr = 3 overshoots a unit quadratic: every step rejected
    assert torch.allclose(traj.final(), mu.expand(5, 2), atol=0.2)


def test_backtracking_descent_never_goes_uphill_even_with_a_huge_step():
    mu = torch.tensor([1.0, -1.0])
    energy = quadratic(mu, torch.tensor([0.1, 1.0]))  # curvature 100 in one direction
    plain = gradient_descent(energy, torch.zeros(3, 2), steps=5, lr=0.5)
    assert plain.energies[-1].mean() > plain.energies[0].mean()  # plain GD diverges
    safe = gradient_descent(energy, torch.zeros(3, 2), steps=1000, lr=0.5, backtrack=True)
    assert (safe.energies[1:] <= safe.energies[:-1] + 1e-7).all()
    assert torch.allclose(safe.final(), mu.expand(3, 2), atol=1e-2)


def _backtracking_reference(energy_fn, y, steps, lr, grow=1.2):
    """The textbook loop: the energy and gradient of the state, then a separate trial pass."""
    ys, es, step = [y], [], torch.full((y.shape[0],), lr)
    for _ in range(steps):
        with torch.enable_grad():
            v = y.detach().requires_grad_(True)
            e = energy_fn(v)
            (g,) = torch.autograd.grad(e.sum(), v)
        prop = y - step[:, None] * g
        with torch.no_grad():
            ok = energy_fn(prop) <= e.detach()
        y = torch.where(ok[:, None], prop, y)
        step = torch.where(ok, step * grow, step * 0.5)
        ys.append(y)
        es.append(e.detach())
    with torch.no_grad():
        es.append(energy_fn(y))
    return ys, torch.stack(es)


def test_backtracking_descent_reuses_the_trial_pass_without_changing_a_bit():
    """One forward pass per step (the accepted trial's graph gives the next gradient) must give
    exactly the iterates and energies of the two-pass loop, on a non-convex energy."""
    def energy(y):
        return (torch.sin(3 * y) + 0.1 * y ** 2).sum(-1)

    y0 = torch.linspace(-3, 3, 12).reshape(6, 2)
    fast = gradient_descent(energy, y0, steps=25, lr=0.7, backtrack=True)
    ys, es = _backtracking_reference(energy, y0, 25, 0.7)
    assert all(torch.equal(a, b) for a, b in zip(fast.candidates, ys))
    assert torch.equal(fast.energies, es)
    assert fast.accepted.shape == (25, 6) and not fast.accepted.all()  # some trials were rejected
    with torch.no_grad():  # as inside a validation loop
        quiet = gradient_descent(energy, y0, steps=25, lr=0.7, backtrack=True)
    assert torch.equal(quiet.energies, es)


def test_annealed_search_reuses_the_trial_pass_without_changing_a_bit():
    """The annealed ladder with one forward pass per step equals the loop that recomputes the
    state's energy and gradient each step and scores the trial separately."""
    def energy(y):
        return (torch.sin(3 * y) + 0.1 * y ** 2).sum(-1)

    fns, lrs = [energy] * 3, [2.0, 0.5, 0.1]
    y0 = torch.linspace(-3, 3, 12).reshape(6, 2)
    fast = annealed(fns, y0, steps_per_level=4, lrs=lrs)
    y, ys, es = y0, [y0], [energy(y0)]
    for lr in lrs:
        for _ in range(4):
            with torch.enable_grad():
                v = y.detach().requires_grad_(True)
                e = energy(v)
                (g,) = torch.autograd.grad(e.sum(), v)
            prop = y - lr * g
            with torch.no_grad():
                y = torch.where((energy(prop) <= e.detach())[:, None], prop, y)
                es.append(energy(y))
            ys.append(y)
    assert all(torch.equal(a, b) for a, b in zip(fast.candidates, ys))
    assert torch.equal(fast.energies, torch.stack(es))
