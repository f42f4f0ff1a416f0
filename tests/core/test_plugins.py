"""Plugin discovery through the entry-point group, in fresh interpreters."""

import pytest

from .helpers import run_python, write_fake_plugin

GOOD = '''
import t2izoo
class Cfg(t2izoo.ComponentConfig):
    name: str = "fake-refiner"
@t2izoo.hookimpl
def t2izoo_register_components(registry):
    registry.register("refiner", "fake-refiner", config=Cfg, factory="t2izoo_basic.refiner:InterpolateRefiner")
'''
BROKEN = "raise RuntimeError('this plugin is broken on purpose')\n"
CLASH = '''
import t2izoo
class Cfg(t2izoo.ComponentConfig):
    name: str = "tiny-conv"
@t2izoo.hookimpl
def t2izoo_register_components(registry):
    registry.register("generator", "tiny-conv", config=Cfg, factory="x:y")
'''


@pytest.fixture
def site(tmp_path):
    write_fake_plugin(tmp_path, "good-plugin", "good", "good_plugin_mod", GOOD)
    write_fake_plugin(tmp_path, "broken-plugin", "broken", "broken_plugin_mod", BROKEN, version="0.0.1")
    return tmp_path


def test_good_plugin_registers_and_broken_one_is_reported(site):
    proc = run_python(
        "import warnings, t2izoo\n"
        "with warnings.catch_warnings(record=True) as w:\n"
        "    warnings.simplefilter('always')\n"
        "    names = t2izoo.list_components('refiner')\n"
        "print(names)\n"
        "print([str(x.message) for x in w])\n"
        "info = {i.name: i for i in t2izoo.plugin_report()}\n"
        "print(info['broken'].status, info['broken'].version, info['broken'].error)\n"
        "print(info['good'].components)\n",
        path=[site],
    )
    lines = proc.stdout.splitlines()
    assert "fake-refiner" in lines[0]
    assert "plugin 'broken' was skipped" in lines[1]
    assert lines[2] == "failed 0.0.1 RuntimeError: this plugin is broken on purpose"
    assert "refiner/fake-refiner" in lines[3]


def test_cli_plugins_shows_version_and_error(site):
    proc = run_python("from t2izoo.cli import main; main(['plugins'])", path=[site])
    assert "broken" in proc.stdout and "failed" in proc.stdout and "0.0.1" in proc.stdout
    assert "this plugin is broken on purpose" in proc.stdout


def test_strict_mode_makes_a_broken_plugin_fatal(site):
    proc = run_python("import t2izoo; t2izoo.list_components()", path=[site],
                      env={"T2IZOO_STRICT_PLUGINS": "1"}, check=False)
    assert proc.returncode != 0
    assert "PluginLoadError" in proc.stderr and "broken" in proc.stderr


def test_disable_by_name(site):
    proc = run_python(
        "import t2izoo\nprint(t2izoo.list_components('refiner'))\n"
        "print({i.name: i.status for i in t2izoo.plugin_report()})",
        path=[site], env={"T2IZOO_DISABLE_PLUGINS": "broken,good", "T2IZOO_STRICT_PLUGINS": "1"},
    )
    assert "fake-refiner" not in proc.stdout.splitlines()[0]
    assert "'good': 'disabled'" in proc.stdout and "'broken': 'disabled'" in proc.stdout


def test_a_name_registered_by_two_plugins_is_an_error_naming_both(tmp_path):
    write_fake_plugin(tmp_path, "clash-plugin", "clash", "clash_plugin_mod", CLASH)
    proc = run_python("import t2izoo; t2izoo.list_components()", path=[tmp_path], check=False)
    assert proc.returncode != 0
    assert "DuplicateComponentError" in proc.stderr
    assert "'basic'" in proc.stderr and "'clash'" in proc.stderr


def test_register_plugin_in_process():
    import types

    import t2izoo

    mod = types.ModuleType("inline_plugin")
    exec(GOOD.replace("fake-refiner", "inline-refiner"), mod.__dict__)
    info = t2izoo.register_plugin(mod, "inline")
    try:
        assert info.status == "loaded" and "refiner/inline-refiner" in info.components
        assert "inline-refiner" in t2izoo.list_components("refiner")
    finally:
        t2izoo.registry.unregister_plugin("inline")
