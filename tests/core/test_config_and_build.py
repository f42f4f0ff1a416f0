import pydantic
import pytest
import torch

import t2izoo
from t2izoo import PipelineConfig, PortMismatchError
from t2izoo._config import apply_overrides, parse_cli_overrides


def _params(pipe):
    return {k: v.clone() for k, v in pipe.state_dict().items()}


@pytest.mark.parametrize("fmt", ["json", "yaml"])
def test_config_round_trips_to_an_identical_build(fmt):
    torch.manual_seed(0)
    pipe = t2izoo.build("shapes-tiny", {"generator.ngf": 8})
    text = pipe.config.to_json() if fmt == "json" else pipe.config.to_yaml()
    again = PipelineConfig.from_json(text) if fmt == "json" else PipelineConfig.from_yaml(text)
    assert again == pipe.config
    torch.manual_seed(0)
    rebuilt = t2izoo.build(again)
    a, b = _params(pipe), _params(rebuilt)
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_config_files_and_model_dirs_build(tmp_path):
    cfg = t2izoo.build_config("shapes-tiny", refiner=None)
    (tmp_path / "c.yaml").write_text(cfg.to_yaml())
    (tmp_path / "c.json").write_text(cfg.to_json())
    assert t2izoo.build_config(tmp_path / "c.yaml") == cfg == t2izoo.build_config(str(tmp_path / "c.json"))


def test_keyword_overrides_swap_and_remove_components():
    cfg = t2izoo.build_config("shapes-tiny", refiner=None)
    assert cfg.refiner is None
    cfg = t2izoo.build_config("shapes-tiny", {"refiner": "bicubic", "refiner.image_size": 64})
    assert cfg.refiner.name == "interpolate" and cfg.refiner.scale == 2  # alias -> canonical; defaults reset


def test_dotted_overrides_reach_nested_components():
    cfg = t2izoo.build_config("shapes-tiny", {"generator.ngf": 16, "generator.fusion.text_channels": 4})
    assert cfg.generator.ngf == 16 and cfg.generator.fusion.text_channels == 4
    pipe = t2izoo.build(cfg)
    assert pipe.generator.fusions[0].text_proj.out_features == 4


def test_cli_override_parsing():
    assert parse_cli_overrides(["generator.ngf=64", "refiner=none", "generator.fusion=film", "x.y=[1, 2]"]) == {
        "generator.ngf": 64, "refiner": None, "generator.fusion": "film", "x.y": [1, 2]}
    with pytest.raises(ValueError, match="key=value"):
        parse_cli_overrides(["generator.ngf"])


def test_override_into_a_missing_path_names_it():
    with pytest.raises(KeyError, match="'generator.nope' is not a component"):
        apply_overrides({"generator": {"name": "g"}}, {"generator.nope.deeper": 1})


def test_bad_value_error_has_the_full_field_path():
    with pytest.raises(pydantic.ValidationError) as err:
        t2izoo.build_config("shapes-tiny", {"generator.fusion.text_channels": "many"})
    locs = [e["loc"] for e in err.value.errors()]
    assert ("generator", "fusion", "text_channels") in locs


def test_misspelt_field_is_rejected_with_its_path():
    with pytest.raises(pydantic.ValidationError) as err:
        t2izoo.build_config("shapes-tiny", {"generator.ngff": 3})
    assert ("generator", "ngff") in [e["loc"] for e in err.value.errors()]


def test_misspelt_component_name_suggests_nearest():
    with pytest.raises(pydantic.ValidationError, match="Did you mean 'hashed-embedding'"):
        t2izoo.build("shapes-tiny", encoder="hashed-embeding")


def test_port_mismatch_names_both_components_and_values_before_weights(tmp_path):
    missing_weights = tmp_path / "does-not-exist"
    with pytest.raises(PortMismatchError) as err:
        t2izoo.build("shapes-tiny", {"refiner.image_size": 32}, pretrained=missing_weights)
    msg = str(err.value)
    assert "generator 'tiny-conv'" in msg and "refiner 'interpolate'" in msg
    assert "image_size=64" in msg and "image_size=32" in msg
    with pytest.raises(PortMismatchError, match="sentence_dim"):
        t2izoo.build("shapes-tiny", {"encoder.dim": 32})


def test_generation_is_seeded_and_stages_are_reported():
    pipe = t2izoo.build("shapes-tiny", {"generator.ngf": 8})
    a = pipe(["a red circle", "a blue star"], seed=1)
    b = pipe(["a red circle", "a blue star"], seed=1)
    c = pipe(["a red circle", "a blue star"], seed=2)
    assert torch.equal(a.tensors, b.tensors) and not torch.equal(a.tensors, c.tensors)
    assert [s.shape[-1] for s in a.stages] == [32, 64, 128]
    assert a.images[0].size == (128, 128) and a.prompts == ["a red circle", "a blue star"]
    with pytest.raises(ValueError, match="prompts is empty"):
        pipe([], seed=0)


def test_save_and_load_pretrained_is_strict_and_exact(tmp_path):
    pipe = t2izoo.build("shapes-tiny", {"generator.ngf": 8})
    with torch.no_grad():
        for p in pipe.parameters():
            p.add_(0.01)  # differ from a fresh init
    pipe.save_pretrained(tmp_path / "model")
    assert (tmp_path / "model" / "generator" / "model.safetensors").is_file()
    loaded = t2izoo.build("shapes-tiny", pretrained=tmp_path / "model")
    assert loaded.config == pipe.config
    assert torch.equal(loaded(["a star"], seed=0).tensors, pipe(["a star"], seed=0).tensors)
    again = t2izoo.Text2ImagePipeline.from_pretrained(tmp_path / "model")
    assert again.config == pipe.config
    # a directory saved for another config fails loudly, never silently half-loads
    with pytest.raises(RuntimeError, match="size mismatch|Missing key|Unexpected key"):
        t2izoo.build("shapes-tiny", {"generator.ngf": 16}, pretrained=tmp_path / "model")


def test_a_parameter_free_refiner_needs_no_folder(tmp_path):
    """A model saved without a refiner loads with `refiner=interpolate` added; a learned one still needs weights."""
    pipe = t2izoo.build("shapes-tiny", {"generator.ngf": 8}, refiner=None)
    pipe.save_pretrained(tmp_path / "model")
    up = t2izoo.build(tmp_path / "model", {"refiner": "interpolate", "refiner.scale": 2}, pretrained=tmp_path / "model")
    base = pipe(["a star"], seed=0).tensors
    assert up(["a star"], seed=0).tensors.shape[-1] == 2 * base.shape[-1]
    with pytest.raises(FileNotFoundError, match="no weights for the refiner"):
        t2izoo.build(tmp_path / "model", {"refiner": "diffusion-sr"}, pretrained=tmp_path / "model")


def test_pretrained_true_without_published_weights_explains():
    with pytest.raises(Exception, match="publishes no weights.*t2izoo train shapes-tiny"):
        t2izoo.build("shapes-tiny", pretrained=True)



def test_generator_kwargs_reach_the_generator_per_call():
    pipe = t2izoo.build("shapes-clip-diffusion")
    opts = {"num_inference_steps": 2, "guidance_scale": 1.0}
    a = pipe(["a red circle"], seed=0, generator_kwargs=opts)
    again = pipe(["a red circle"], seed=0, generator_kwargs=opts)
    b = pipe(["a red circle"], seed=0, generator_kwargs={**opts, "num_inference_steps": 3})
    assert torch.equal(a.tensors, again.tensors)
    assert a.tensors.shape == b.tensors.shape and not torch.equal(a.tensors, b.tensors)


def test_cli_overrides_read_bare_exponents_as_numbers():
    from t2izoo._config import parse_cli_overrides

    parsed = parse_cli_overrides(["lr=5e-4", "n=1E3", "tag=1e", "ngf=64", "refiner=none"])
    assert parsed == {"lr": 5e-4, "n": 1000.0, "tag": "1e", "ngf": 64, "refiner": None}
