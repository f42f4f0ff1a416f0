import warnings

import pytest

import t2izoo
from t2izoo import ComponentConfig, DuplicateComponentError, Registry, UnknownComponentError


class _Cfg(ComponentConfig):
    name: str = "x"


def test_list_components_filters_by_kind_and_wildcard():
    everything = t2izoo.list_components()
    assert "generator/tiny-conv" in everything and "encoder/hashed-embedding" in everything
    assert t2izoo.list_components("generator", "tiny*") == ["tiny-conv"]
    assert t2izoo.list_components(pattern="generator/*") == [e for e in everything if e.startswith("generator/")]
    assert t2izoo.list_components("refiner", "no-such-*") == []


def test_unknown_kind_is_rejected():
    with pytest.raises(ValueError, match="unknown kind 'encoders'"):
        t2izoo.list_components("encoders")


def test_duplicate_names_name_both_plugins():
    reg = Registry()
    with reg.plugin_scope("first"):
        reg.register("fusion", "same", config=_Cfg, factory="m:A")
    with reg.plugin_scope("second"), pytest.raises(DuplicateComponentError) as err:
        reg.register("fusion", "same", config=_Cfg, factory="m:B")
    assert "'first'" in str(err.value) and "'second'" in str(err.value)


def test_alias_collision_with_a_name_is_a_duplicate():
    reg = Registry()
    reg.register("fusion", "a", config=_Cfg, factory="m:A")
    with pytest.raises(DuplicateComponentError):
        reg.register("fusion", "b", config=_Cfg, factory="m:B", aliases=("a",))


def test_aliases_resolve_and_deprecated_ones_warn():
    reg = Registry()
    reg.register("refiner", "new", config=_Cfg, factory="m:A", aliases=("nice",), deprecated_aliases=("old",))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert reg.get("refiner", "nice").name == "new"
    with pytest.warns(FutureWarning, match="'old' is deprecated; use 'new'"):
        assert reg.get("refiner", "old").name == "new"


def test_unknown_name_suggests_the_nearest():
    with pytest.raises(UnknownComponentError, match="Did you mean 'tiny-conv'"):
        t2izoo.get_component("generator", "tiny-cnv")


def test_config_class_must_be_a_component_config():
    with pytest.raises(TypeError, match="ComponentConfig subclass"):
        Registry().register("encoder", "bad", config=dict, factory="m:A")


def test_factory_import_errors_name_the_component():
    reg = Registry()
    entry = reg.register("encoder", "ghost", config=_Cfg, factory="no_such_module_xyz:Thing")
    with pytest.raises(ImportError, match="encoder 'ghost'.*no_such_module_xyz:Thing"):
        entry.load_factory()
