import numpy as np
import pytest

import reservoir as rs


@pytest.fixture(scope="module")
def comparison():
    task = rs.tasks.xor(600, noise_std=0.1, dt=2.0, rng=0)
    test = rs.tasks.xor(100, noise_std=0.1, dt=2.0, rng=1)
    return task, test, rs.compare_training(
        task, test, n_networks=2, N=40,
        bptt_kwargs={"epochs": 25, "lr": 2e-3, "batch_size": 32}, rng=0)


def test_comparison_measures_every_network(comparison):
    task, test, cmp = comparison
    assert set(cmp.summaries) == {"ridge", "force", "bptt"}
    for name, s in cmp.summaries.items():
        assert s.accuracy.shape == (2,) and len(s.networks) == 2
        for net, acc, mse in zip(s.networks, s.accuracy, s.test_mse):
            mode = "open" if name == "bptt" else "closed"
            z = rs.simulate(net, test.inputs, mode=mode, record=("z",)).z
            assert acc == rs.tasks.response_accuracy(test, z)
            assert mse == pytest.approx(np.mean((z - test.targets) ** 2))
        np.testing.assert_array_equal(s.success, s.accuracy >= 0.95)
        if name != "bptt":  # the readout fits the teacher-forced trajectories
            assert np.all(s.accuracy_teacher >= s.accuracy - 1e-12)
            assert np.all(s.accuracy_teacher == 1.0)
    text = cmp.table()
    assert all(m in text for m in ("ridge", "force", "bptt"))


def test_bptt_solves_xor_and_keeps_the_orthogonal_ring(comparison):
    _, _, cmp = comparison
    s = cmp.summaries["bptt"]
    assert s.success_rate == 1.0
    # orthogonal initialisation: the bulk stays near the unit circle after training
    # (Jarne 2022), and a few eigenvalues move outside it
    assert np.all(np.abs(s.bulk_radius - 1.0) < 0.1)
    assert np.all(s.n_outliers >= 1)


def test_readout_trained_spectra_include_the_feedback_loop(comparison):
    _, _, cmp = comparison
    for name in ("ridge", "force"):
        s = cmp.summaries[name]
        for net, lead in zip(s.networks, s.leading_eigenvalue):
            lam_J = np.linalg.eigvals(net.dense_J())
            assert not np.isclose(np.abs(lead), np.abs(lam_J).max(), atol=1e-6)


def test_pruning_everything_destroys_the_solution():
    task = rs.tasks.xor(300, noise_std=0.1, dt=2.0, rng=0)
    test = rs.tasks.xor(100, noise_std=0.1, dt=2.0, rng=1)
    cmp = rs.compare_training(task, test, methods=("bptt",), n_networks=1, N=30,
                              bptt_kwargs={"epochs": 20, "lr": 2e-3, "batch_size": 32},
                              prune_fraction=1.0, rng=2)
    s = cmp.summaries["bptt"]
    assert s.accuracy_pruned[0] < s.accuracy[0]


@pytest.mark.parametrize("kwargs, exc, word", [
    (dict(methods=("sgd",)), ValueError, "methods"), (dict(n_networks=0), ValueError,
                                                      "n_networks"),
    (dict(test="xor"), TypeError, "Task")])
def test_compare_bad_input(kwargs, exc, word):
    task = rs.tasks.xor(10, dt=2.0, rng=0)
    args = dict(task=task, test=task)
    args.update(kwargs)
    with pytest.raises(exc, match=word):
        rs.compare_training(**args)
    with pytest.raises(ValueError, match="response window"):
        ff = rs.tasks.flip_flop(4, dt=5.0, rng=0)
        rs.compare_training(ff, ff)
