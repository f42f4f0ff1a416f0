"""Benchmark results -> ``bench.json`` and ``bench.md`` (the machine first, then one table per suite).

Example:
    >>> md = render_markdown({"machine": {"cpu_model": "x", "torch": "2"}, "options": {}, "suites": {}})
    >>> md.startswith("# t2izoo benchmark")
    True
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

__all__ = ["render_markdown", "write_report"]


def _f(value: Any, digits: int = 3) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if math.isnan(value):
            return "n/a"
        if value == 0:
            return "0"
        if abs(value) >= 100:
            return f"{value:.0f}"
        if abs(value) < 10 ** -(digits - 1):
            return f"{value:.1e}"
        return f"{value:.{digits}g}"
    return str(value)


def _table(header: list[str], rows: list[list[Any]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(_f(c) for c in row) + " |" for row in rows]
    return lines


def _machine(m: dict[str, Any]) -> list[str]:
    gpu = m.get("gpu")
    gpu_text = "none" if not gpu else f"{gpu['name']} x{gpu['count']} ({gpu['memory_gib']} GiB, CUDA {gpu['cuda']})"
    return [
        f"- CPU: {m.get('cpu_model')} ({m.get('logical_cores')} logical cores, {m.get('cores_available')} available)",
        f"- torch {m.get('torch')}, {m.get('torch_threads')} thread(s) (OMP_NUM_THREADS={m.get('omp_num_threads')}), "
        f"mkldnn {m.get('mkldnn')}",
        f"- memory: {m.get('memory_gib')} GiB; load average at start: {m.get('load_average_at_start')}",
        f"- GPU: {gpu_text}",
        f"- {m.get('platform')}, Python {m.get('python')}",
    ]


def _generation(rows: list[dict[str, Any]]) -> list[str]:
    out = ["## Generation (random weights)", "",
           "Ratios are median per-round `t(eager) / t(variant)` of interleaved calls (> 1: faster than "
           "eager). `diff` is the difference to eager's images for the same seed, against the tolerance. "
           "Peak memory is the growth during one call (activations), measured for eager and the default.", ""]
    table = []
    for row in rows:
        if row.get("skipped"):
            table.append([row["preset"], row["batch"], "skipped", None, None, None, None, row["skipped"]])
            continue
        for label, v in row["variants"].items():
            tol = v["tolerance"]
            table.append([
                row["preset"], row["batch"], label + (" (default)" if v.get("default") else ""),
                v["images_per_s"], v["ratio_to_eager"], v.get("peak_memory_mib"),
                f"{_f(v[tol['metric']])} {tol['metric'].split('_')[0]} <= {tol['value']}",
                "yes" if v["within_tolerance"] else "**NO**",
            ])
    return out + _table(["preset", "batch", "variant", "images/s", "x eager", "peak MiB", "diff vs eager",
                         "within tol."], table)


def _refiner(block: dict[str, Any]) -> list[str]:
    out = [f"## Diffusion refiner: {block['lr_size']} -> {block['image_size']} px, {block['parameters']:,} "
           f"parameters, batch {block['batch']}, {block['weights']}", ""]
    has_ssim = any("ssim" in r for r in block["runs"])
    header = ["sampler", "steps", "s/image", "ms/step", "x first"] + (["SSIM"] if has_ssim else []) + ["note"]
    rows = []
    for r in block["runs"]:
        note = f"timed {r['extrapolated_from_steps']} steps, scaled" if r.get("extrapolated_from_steps") else ""
        rows.append([r["sampler"], r["steps"], r["seconds_per_image"], r["ms_per_step"], r["ratio_to_first"]]
                    + ([r.get("ssim")] if has_ssim else []) + [note])
    out += _table(header, rows)
    out += ["", f"Peak memory ({block['peak_memory_run']}): {_f(block['peak_memory_mib'])} MiB."]
    return out


def _training(rows: list[dict[str, Any]]) -> list[str]:
    out = ["## Training (a few steps of each preset's recipe, shapes batches)", ""]
    table = [[r["preset"], r.get("recipe"), r.get("batch_size"), r.get("steps_per_s"), r.get("samples_per_s"),
              r.get("mixed_precision"), r.get("error", "")] for r in rows]
    return out + _table(["preset", "recipe", "batch", "steps/s", "samples/s", "precision", "note"], table)


def _features(rows: list[dict[str, Any]], one_pass: dict[str, Any] | None) -> list[str]:
    out = ["## Metric feature extraction (reference architectures, random weights: speed only)", ""]
    table = [[r["backbone"], r["serves"], r["batch"], r["input_size"], r["images_per_s"]] for r in rows]
    out += _table(["backbone", "used by", "batch", "input px", "images/s"], table)
    if one_pass:
        out += ["", f"FID + IS from one Inception pass vs two passes: x{_f(one_pass['ratio_one_pass_vs_two'])} "
                f"(batch {one_pass['batch']}, {one_pass['input_size']} px)."]
    return out


def _startup(rows: dict[str, Any]) -> list[str]:
    out = ["## Start-up (fresh interpreter each time)", ""]
    table = [[name, r["median_s"], r["min_s"], r.get("imports_torch", "")] for name, r in rows.items()]
    return out + _table(["command", "median s", "min s", "imports torch"], table)


def render_markdown(result: dict[str, Any]) -> str:
    """The human-readable report of a `run_benchmark` result."""
    lines = ["# t2izoo benchmark", "", "## Machine", "", *_machine(result.get("machine", {})), ""]
    opts = result.get("options", {})
    if opts:
        lines += ["Options: " + ", ".join(f"{k}={v}" for k, v in opts.items()), ""]
    suites = result.get("suites", {})
    if "generation" in suites:
        lines += [*_generation(suites["generation"]), ""]
    if "refiner" in suites:
        lines += [*_refiner(suites["refiner"]), ""]
    if "training" in suites:
        lines += [*_training(suites["training"]), ""]
    if "features" in suites:
        lines += [*_features(suites["features"], suites.get("one_pass_fid_is")), ""]
    if "startup" in suites:
        lines += [*_startup(suites["startup"]), ""]
    for name, err in result.get("errors", {}).items():
        lines.append(f"- {name} failed: {err}")
    return "\n".join(lines).rstrip() + "\n"


def _jsonable(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


def write_report(result: dict[str, Any], out: str | Path) -> tuple[Path, Path]:
    """Write ``OUT/bench.json`` and ``OUT/bench.md``; returns both paths."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    js, md = out / "bench.json", out / "bench.md"
    js.write_text(json.dumps(_jsonable(result), indent=2) + "\n", encoding="utf-8")
    md.write_text(render_markdown(result), encoding="utf-8")
    return js, md
