import os

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

# The default profile is derandomized: the same examples on every run and machine, so a
# red CI is reproducible. HYPOTHESIS_PROFILE=explore searches new random examples (run it
# when changing the code under test; report what it finds).
settings.register_profile(
    "default", deadline=None, max_examples=25, derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.register_profile("ci", parent=settings.get_profile("default"), max_examples=15)
settings.register_profile("explore", parent=settings.get_profile("default"),
                          derandomize=False, max_examples=100)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


@pytest.fixture
def rng():
    return np.random.default_rng(12345)
