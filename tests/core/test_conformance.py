"""The conformance kit over every registered component: new components are covered for free."""

import pytest

from t2izoo.testing import ConformanceError, check_component, conformance_cases


@pytest.mark.parametrize("kind, name", conformance_cases(), ids=lambda v: str(v))
def test_component_conforms(kind, name):
    report = check_component(kind, name)
    assert set(report) == {"interface", "ports", "config", "state_dict", "determinism", "moves"}


def test_the_kit_catches_a_nondeterministic_generator():
    import torch
    from t2izoo_basic.generator import TinyConvGenerator

    import t2izoo

    class Noisy(TinyConvGenerator):  # ignores the generator it is given
        def sample_noise(self, batch_size, generator=None):
            return torch.randn(batch_size, self.config.z_dim)

    t2izoo.registry.register("generator", "noisy-test", config=t2izoo.get_component("generator", "tiny-conv").config_class,
                             factory=Noisy)
    try:
        with pytest.raises(ConformanceError, match="generator 'noisy-test' failed the '(state_dict|determinism)' check"):
            check_component("generator", "noisy-test")
    finally:
        t2izoo.registry.unregister_plugin("t2izoo")
