"""The wheel carries the core, every first-party plugin, the model cards, plugin data files and
the bundled hub/ weights, so an installed wheel builds the shapes presets offline."""

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from .helpers import run_python

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "t2izoo-plugin-example"


def _pip(*args: str, python: str = sys.executable) -> subprocess.CompletedProcess:
    proc = subprocess.run([python, "-m", "pip", *args, "-q", "--disable-pip-version-check"],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    # build from a clean copy: an in-tree build/ folder could leak stale files into the wheel
    src = tmp_path_factory.mktemp("src") / "t2izoo"
    shutil.copytree(ROOT, src, ignore=shutil.ignore_patterns(
        ".git", "build", "dist", "*.egg-info", "__pycache__", "runs", "tests", "examples", "docs"))
    out = tmp_path_factory.mktemp("wheel")
    _pip("wheel", str(src), "--no-deps", "--no-build-isolation", "-w", str(out))
    return next(out.glob("t2izoo-*.whl"))


def test_wheel_contains_cards_and_plugins(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    cards = sorted(Path(n).name for n in names if n.startswith("t2izoo/model_cards/") and n.endswith(".md"))
    assert cards == sorted(p.name for p in (ROOT / "model_cards").glob("*.md"))
    for plugin in (ROOT / "plugins").iterdir():
        if (plugin / "__init__.py").is_file():
            assert f"{plugin.name}/__init__.py" in names, f"{plugin.name} is missing from the wheel"
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    assert "[t2izoo]" in zipfile.ZipFile(wheel).read(entry_points).decode()
    assert "t2izoo_clip/model_configs/shapes-clip-tiny.json" in names  # data beside a plugin's modules
    import t2izoo

    pinned = 0
    for preset in t2izoo.list_models():
        weights = t2izoo.load_card(preset).weights or {}
        for filename in weights.get("files", {}):
            assert f"t2izoo/hub/{weights['repo']}/{filename}" in names, (preset, filename)
            pinned += 1
    assert pinned > 0


def test_presets_build_from_a_non_editable_install_offline(wheel, tmp_path):
    import t2izoo

    site = tmp_path / "site"
    _pip("install", "--no-deps", "--target", str(site), str(wheel))
    proc = run_python(
        "import t2izoo\n"
        "from t2izoo._cards import builtin_card_dir\n"
        "from t2izoo._hub import bundled_hub_dirs\n"
        "print(t2izoo.__file__)\nprint(builtin_card_dir())\nprint(bundled_hub_dirs()[-1])\n"
        "pipe = t2izoo.build('shapes-tiny', {'generator.ngf': 8})\n"
        "print(pipe(['a red circle'], seed=0).tensors.shape)\n"
        "clip = t2izoo.build('shapes-clip', pretrained=True)\n"
        "accuracy = t2izoo.build('shapes-accuracy', pretrained=True)\n"
        "pipe = t2izoo.build('shapes-attngan', pretrained=True)\n"
        "print(pipe(['a red circle'], seed=0).tensors.shape)\n"
        "print(accuracy.extractor.weights_sha256)\n",
        path=[site], cwd=tmp_path,
        # no network, an empty HF cache: the shipped weights can only come from the wheel
        env={"HF_HUB_OFFLINE": "1", "HF_HOME": str(tmp_path / "empty-hf-home"), "T2IZOO_HUB_DIR": ""},
    )
    file_, cards, hub, tiny, attngan, sha = proc.stdout.splitlines()
    for path in (file_, cards, hub):  # the wheel's files, not the checkout's
        assert path.startswith(str(site)), proc.stdout
    assert tiny == attngan == "torch.Size([1, 3, 128, 128])"
    assert sha == t2izoo.load_card("shapes-accuracy").weights["files"]["shapes-classifier.safetensors"]


def test_example_plugin_installs_works_and_uninstalls(tmp_path):
    venv = tmp_path / "venv"
    # no pip of its own: the project's pip and setuptools (site-packages) install into the venv
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", "--without-pip", str(venv)],
                   check=True, timeout=120)
    py = str(venv / "bin" / "python")

    def fusions() -> str:
        return subprocess.run([py, "-m", "t2izoo", "list", "--kind", "fusion"], capture_output=True,
                              text=True, timeout=120, check=True).stdout

    assert "film" not in fusions()
    _pip("install", "--no-deps", "--no-build-isolation", str(EXAMPLE), python=py)
    assert "film" in fusions() and "[example-film]" in fusions()
    used = subprocess.run(
        [py, "-c", "import t2izoo; p = t2izoo.build('shapes-tiny', {'generator.fusion': 'film'}); "
                   "print(type(p.generator.fusions[0]).__name__)"],
        capture_output=True, text=True, timeout=120)
    assert used.stdout.strip() == "FiLMFusion", used.stderr
    tests = subprocess.run([py, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(EXAMPLE / "tests")],
                           capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert tests.returncode == 0 and "3 passed" in tests.stdout, tests.stdout + tests.stderr
    _pip("uninstall", "-y", "t2izoo-plugin-example", python=py)
    assert "film" not in fusions()
