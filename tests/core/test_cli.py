import subprocess
import sys

from t2izoo.cli import main

from .helpers import run_python


def test_list_does_not_import_torch():
    proc = run_python("import sys\nfrom t2izoo.cli import main\nmain(['list'])\nprint('TORCH', 'torch' in sys.modules)")
    assert "shapes-tiny" in proc.stdout and "tiny-conv" in proc.stdout
    assert proc.stdout.strip().endswith("TORCH False")


def test_python_dash_m_runs_the_cli():
    proc = subprocess.run([sys.executable, "-m", "t2izoo", "list", "--kind", "generator"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and "tiny-conv" in proc.stdout


def test_list_pattern_and_json(capsys):
    assert main(["list", "shapes-*", "--kind", "preset", "--json"]) == 0
    assert '"name": "shapes-tiny"' in capsys.readouterr().out
    assert main(["list", "zzz-*"]) == 1


def test_info_shows_card_and_resolved_config_with_overrides(capsys):
    assert main(["info", "shapes-tiny", "generator.ngf=16"]) == 0
    out = capsys.readouterr().out
    assert "shapes-tiny:" in out and "resolved config" in out and "ngf: 16" in out
    assert main(["info", "generator/tiny-conv"]) == 0
    assert "image_size" in capsys.readouterr().out


def test_build_dry_run_counts_parameters_per_component(capsys):
    assert main(["build", "shapes-tiny", "--dry-run", "generator.ngf=8", "refiner=none"]) == 0
    out = capsys.readouterr().out
    assert "refiner: null" in out
    lines = [line.split() for line in out.splitlines() if line.strip().startswith(("encoder ", "generator ", "total"))]
    counts = {row[0]: int(row[-1].replace(",", "")) for row in lines}
    assert counts["total"] == counts["encoder"] + counts["generator"] > 0


def test_bad_override_is_one_clear_error(capsys):
    assert main(["build", "shapes-tiny", "--dry-run", "generator.ngf=abc"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error:") and "generator.ngf" in err and "Traceback" not in err
