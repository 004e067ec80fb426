"""Publish the results: the Snakemake report as one file, plus the figures and tables, checked in a browser.

``publish`` (the command) runs ``snakemake --report`` (with the git revision, config hash
and package versions as report metadata, shown as text on the landing page, and
``workflow/report/style.css``, which keeps pages taller than the window reachable), then writes ``<out>/`` with ``report.html``,
``figures/`` (PNG and SVG), ``tables/`` (CSV and HTML) and a ``README.md`` listing every file
and where its numbers come from. The folder is replaced atomically.

``check_report`` opens a report the way a reader does, in headless Chromium, offline: it
shows every figure of the report in the report's own viewer, records whether each image
decoded (its pixel size), is whole on screen (uncropped) and has a caption, reads the landing
page's text, and takes a screenshot of each figure's page and of the landing page (``screenshots/``
of the published folder).
"""

from __future__ import annotations

import html
import json
import logging
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from sparsekws.core.errors import UserError
from sparsekws.core.files import atomic_dir, atomic_path, write_yaml
from sparsekws.core.provenance import config_hash, git_revision, package_versions, utc_now

log = logging.getLogger(__name__)

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome")
# Offline, no profile reuse, no background traffic.
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--disable-dev-shm-usage", "--hide-scrollbars")
MAIN_FIGURE = "answer.png"  # the report opens on the answer
WINDOW = "1600,1000"  # the browser window, in pixels
LANDING_SCREENSHOT = "landing.png"  # the landing page's screenshot, beside the figures' (<figure stem>.png)
STYLESHEET = Path("workflow/report/style.css")  # added to the report, relative to the workflow's root
METADATA_SCRIPT, METADATA_VAR = '<script id="metadata">', "var metadata = "  # the report's landing-page metadata
PROBE_ID = "sparsekws-probe"

# Runs inside the report after its own scripts: shows each image result the way the report's
# view button does (app.setView), checks it is on the page and decoded, then leaves the main
# figure (with its category in the menu) on screen for the screenshot, or the landing page if
# there is none.
PROBE_JS = """
<script>
(function () {
  const main = %(main)s;
  const wait = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
  // a reader opening a page starts at its top
  const toTop = () => document.querySelectorAll('#app .overflow-auto').forEach((pane) => { pane.scrollTop = 0; });
  async function probe() {
    const out = {landing_text: document.querySelector('#app').innerText.slice(0, 20000), figures: {}};
    for (const [path, entry] of Object.entries(results)) {
      if (!entry.mime_type.startsWith('image/')) continue;
      app.setView({content: 'img', contentPath: entry.data_uri, resultPath: path});
      await wait(150);
      toTop();
      const img = Array.from(document.querySelectorAll('#app img')).find((i) => i.src === entry.data_uri);
      let width = 0, height = 0, uncropped = false, scale = 0;
      if (img) {
        await Promise.race([img.decode().catch(() => null), wait(3000)]);
        width = img.naturalWidth; height = img.naturalHeight;
        // the whole image on screen: not cut at the window's sides, not squeezed or cropped by the page
        const r = img.getBoundingClientRect();
        uncropped = r.width > 0 && height > 0 && r.left >= -1 && r.top >= -1 && r.right <= window.innerWidth + 1
          && Math.abs(r.width / r.height - width / height) <= 0.02 * (width / height);
        scale = width > 0 ? r.width / width : 0;  // displayed size over the image's own
      }
      out.figures[path] = {shown: !!img, width: width, height: height, uncropped: uncropped, scale: scale,
                           caption: entry.caption.length};
    }
    const mainPath = main ? Object.keys(results).find((p) => p.endsWith('/' + main)) : undefined;
    if (mainPath) {
      const category = Object.keys(categories).find((c) => Object.values(categories[c]).some((l) => l.includes(mainPath)));
      if (category) { app.showCategory(category); await wait(200); }
      app.setView({content: 'img', contentPath: results[mainPath].data_uri, resultPath: mainPath});
      out.main = mainPath;
    } else {
      app.setView({content: app.content});  // back to the landing page
    }
    await wait(300);
    toTop();
    const pre = document.createElement('pre');
    pre.id = '%(probe_id)s';
    pre.style.display = 'none';
    pre.textContent = JSON.stringify(out);
    document.body.appendChild(pre);
  }
  window.addEventListener('load', () => setTimeout(probe, 300));
})();
</script>
"""


def find_chromium() -> str | None:
    """The Chromium executable on PATH, or None."""
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    return None


def probe_page(report_html: str, main: str = MAIN_FIGURE) -> str:
    """The report with the probe script added at the end of its body."""
    script = PROBE_JS % {"main": json.dumps(main), "probe_id": PROBE_ID}
    cut = report_html.rfind("</body>")
    if cut < 0:
        raise UserError("the report has no </body>: not a Snakemake HTML report (use an .html report, not .zip)")
    return report_html[:cut] + script + report_html[cut:]


def _chromium(chromium: str, profile: Path, *args: str, timeout: float) -> subprocess.CompletedProcess:
    # Virtual time runs fast while the page idles, so a generous budget costs little real time;
    # the probe waits for every figure to decode (up to 3 s of virtual time each).
    command = [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--virtual-time-budget=600000", *args]
    try:
        return subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        raise UserError(f"{chromium} did not finish within {timeout:g} s: {' '.join(command[-2:])}") from None


def check_report(report: str | Path, screenshots: str | Path | None = None, chromium: str | None = None,
                 main: str = MAIN_FIGURE, timeout: float = 120.0) -> dict[str, Any]:
    """Open ``report`` in headless Chromium; return what a reader would see.

    Result: ``figures`` (per image result: ``shown``, ``width``, ``height`` in pixels, ``uncropped``:
    none of it cut off at the window's top or sides (the page may scroll down) at its own aspect, ``scale``: its displayed width over its own, in CSS pixels,
    and ``caption``: the caption's length), ``landing_text``
    (the first page's text), ``main`` (the figure left on screen) and, when ``screenshots`` (a folder)
    is given, ``screenshots``: per figure, a screenshot of its page (``<folder>/<figure stem>.png``), and
    ``landing_screenshot``: the page the report opens on (``<folder>/LANDING_SCREENSHOT``).
    """
    chromium = chromium or find_chromium()
    if chromium is None:
        raise UserError("no Chromium found (install the Debian package 'chromium', see envs/apt-packages.txt)")
    html_text = Path(report).read_text(errors="replace")
    with tempfile.TemporaryDirectory(prefix="sparsekws-report-check-") as tmp:
        result = _probe(chromium, html_text, main, Path(tmp), timeout)
        if screenshots is not None:
            folder = Path(screenshots).resolve()
            folder.mkdir(parents=True, exist_ok=True)
            result["screenshots"] = {}
            for index, figure in enumerate(sorted(result["figures"])):
                shot = folder / f"{Path(figure).stem}.png"
                _screenshot(chromium, html_text, Path(figure).name, shot, Path(tmp) / f"shot{index}", timeout)
                result["screenshots"][figure] = str(shot)
            landing = folder / LANDING_SCREENSHOT
            _screenshot(chromium, html_text, "", landing, Path(tmp) / "landing", timeout)
            result["landing_screenshot"] = str(landing)
    return result


def _open_probed(chromium: str, html_text: str, main: str, tmp: Path, how: str,
                 timeout: float) -> subprocess.CompletedProcess:
    """Chromium run with ``how`` (``--dump-dom``, ``--screenshot=...``) on the report ``html_text`` with
    the probe added, leaving ``main`` (a figure's file name; empty: the landing page) on screen."""
    tmp.mkdir(parents=True, exist_ok=True)
    page = tmp / "report_probe.html"
    page.write_text(probe_page(html_text, main))
    return _chromium(chromium, tmp / "profile", how, f"--window-size={WINDOW}", page.resolve().as_uri(),
                     timeout=timeout)


def _probe(chromium: str, html_text: str, main: str, tmp: Path, timeout: float) -> dict[str, Any]:
    """The probe's result for the report ``html_text`` (see ``check_report``)."""
    dom = _open_probed(chromium, html_text, main, tmp / "probe", "--dump-dom", timeout)
    match = re.search(rf'<pre id="{PROBE_ID}"[^>]*>(.*?)</pre>', dom.stdout, re.S)
    if match is None:
        raise UserError(f"the report's scripts did not finish in Chromium (no probe result); "
                        f"chromium said: {dom.stderr[-1500:]}")
    return json.loads(html.unescape(match.group(1)))


def _screenshot(chromium: str, html_text: str, figure: str, shot: Path, tmp: Path, timeout: float) -> None:
    """A screenshot of the report with ``figure`` on screen (empty: the landing page), written to ``shot``."""
    done = _open_probed(chromium, html_text, figure, tmp, f"--screenshot={shot}", timeout)
    if not shot.is_file():
        raise UserError(f"Chromium wrote no screenshot to {shot}: {done.stderr[-1500:]}")


def report_metadata(config: dict) -> dict[str, str]:
    """Key-value provenance for the report's landing page (Snakemake ``--report-metadata``)."""
    versions = package_versions()
    return {
        "git revision": git_revision(),
        "config hash": config_hash(config),
        "dataset": str(config["dataset"]["name"]),
        "report generated (UTC)": utc_now(),
        "package versions": ", ".join(f"{name} {version}" for name, version in versions.items()),
    }


def readable_metadata(report_html: str, metadata: dict[str, str]) -> str:
    """The report with its landing-page metadata replaced by ``metadata``, each value as escaped text.

    Snakemake 9.27 renders every string of ``--report-metadata`` into docutils' parts dictionary
    (``whole``, ``encoding``, ``errors``, ``version``), which the landing page then lists key by key."""
    start = report_html.find(METADATA_SCRIPT)
    start = report_html.find(METADATA_VAR, start) if start >= 0 else -1
    if start < 0:
        raise UserError("the report has no metadata script: not a Snakemake HTML report of a known version")
    start += len(METADATA_VAR)
    _, end = json.JSONDecoder().raw_decode(report_html, start)
    readable = {key: html.escape(str(value)) for key, value in metadata.items()}
    return report_html[:start] + json.dumps(readable) + report_html[end:]


def snakemake_report(report: Path, configfile: Path, metadata: dict[str, str], nolock: bool = False,
                     targets: list[str] | None = None) -> None:
    """Run ``snakemake --report`` in the current directory (the workflow's root), on ``targets``
    (default: the workflow's default target), with ``STYLESHEET`` where it exists and ``metadata``
    readable on the landing page."""
    report.parent.mkdir(parents=True, exist_ok=True)
    style = ["--report-stylesheet", str(STYLESHEET)] if STYLESHEET.is_file() else []
    with tempfile.TemporaryDirectory(prefix="sparsekws-report-") as tmp:
        meta = Path(tmp) / "metadata.yaml"
        write_yaml(meta, metadata)
        command = [sys.executable, "-m", "snakemake", "--report", str(report), "--configfile", str(configfile),
                   "--report-metadata", str(meta), *style] + (["--nolock"] if nolock else []) + list(targets or [])
        result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0 or not report.is_file():
        raise UserError(f"snakemake --report failed (run it in the workflow's folder after the workflow):\n"
                        f"{result.stdout[-2000:]}\n{result.stderr[-2000:]}")
    with atomic_path(report, suffix=".html") as tmp:
        Path(tmp).write_text(readable_metadata(report.read_text(errors="replace"), metadata))


def readme(config: dict, files: dict[str, list[str]], metadata: dict[str, str], check: dict | None) -> str:
    """README of the published folder: what each file is and where its numbers come from."""
    lines = [
        f"# sparsekws results: dataset `{config['dataset']['name']}`", "",
        "Generated by the sparsekws workflow. Every number says whether it was **measured** (which device, "
        "which method) or **estimated** (which model): see the `source` and `method` columns of the tables "
        "and the footer of each figure. FPGA numbers are estimates unless `source` says measured.", "",
        "## Provenance", "",
        *(f"- {key}: {value}" for key, value in metadata.items()), "",
        "## Contents", "",
        "- `report.html`: the Snakemake report (one self-contained file; opens offline in a browser): "
        "introduction, the answer, every figure with its caption, the tables, the config (appendix), run statistics.",
    ]
    describe = {
        "answer": "the answer: sparse over each dense baseline (tuned, stock FINN, Numenta's), beside Numenta's ratios",
        "throughput": "Graph 1: one network per FPGA board, stock and tuned dense vs sparse (hatched = estimated, "
                      "dotted = simulated)",
        "host_throughput": "one network on the host CPU/GPU per backend and batch size, every model",
        "race": "Graph 2: the race on the U250, dense with a 5-minute head start vs sparse; overtaking time",
        "full_chip": "Graph 3: a full chip per FPGA board, networks per chip on the bars; designs that do not fit marked",
        "energy": "Graph 4: energy per word where power was read (otherwise it says there was none)",
        "accuracy_vs_macs": "test accuracy vs MACs per inference, Pareto front",
        "cross_voice": "leave-one-voice-family-out test: accuracy on voices never heard, beside in-family accuracy",
        "accuracy": "accuracy and weight sparsity per model",
        "table1": "Table 1 in the blog's rows: words/s per FPGA design, board and configuration, ours beside "
                  "Numenta's reported designs",
        "headline": "headline numbers next to the blog's claims (claim, blog_value, our_value, source, note)",
        "provenance": "config hash, git revision and package versions of the figures",
    }
    for folder in ("figures", "tables"):
        for name in files.get(folder, []):
            stem = Path(name).stem
            lines.append(f"- `{folder}/{name}`" + (f": {describe[stem]}" if stem in describe else ""))
    if check is not None:
        figures = check["figures"].values()
        shown = sum(1 for f in figures if f["shown"] and f["width"] > 0)
        whole = sum(1 for f in figures if f.get("uncropped") and f.get("caption", 0) > 0)
        lines += ["", "## Checked in a browser", "",
                  f"The report was opened in headless Chromium: {shown} of {len(check['figures'])} figures displayed, "
                  f"{whole} whole on screen with a caption."]
        if check.get("screenshots"):
            lines.append("A screenshot of each figure's page: `screenshots/`.")
    return "\n".join(lines) + "\n"


def publish(config: dict, report: Path, figures: Path, tables: Path, out: Path, check: bool = True) -> dict[str, Any]:
    """Copy the report, figures and tables into ``out`` (atomically) with a README."""
    for path, what in ((report, "report"), (figures, "figures folder"), (tables, "tables folder")):
        if not path.exists():
            raise UserError(f"{what} {path} does not exist: run the workflow (snakemake --cores all) first")
    metadata = report_metadata(config)
    with atomic_dir(out) as staging:
        shutil.copy2(report, staging / "report.html")
        files = {}
        for folder, source in (("figures", figures), ("tables", tables)):
            (staging / folder).mkdir()
            names = sorted(p.name for p in source.iterdir() if p.is_file() and not p.name.startswith("."))
            for name in names:
                shutil.copy2(source / name, staging / folder / name)
            files[folder] = names
        result = None
        if check:
            if find_chromium() is None:
                log.warning("no Chromium: the published report was not checked in a browser")
            else:
                shots = staging / "screenshots"
                result = check_report(staging / "report.html", shots)
                moved = {str(shot): str(out / "screenshots" / shot.name) for shot in shots.resolve().iterdir()}
                result["screenshots"] = {figure: moved[shot] for figure, shot in result["screenshots"].items()}
                result["landing_screenshot"] = moved[result["landing_screenshot"]]
                (staging / "report_check.json").write_text(json.dumps(result, indent=2, sort_keys=True) + "\n")
        (staging / "README.md").write_text(readme(config, files, metadata, result))
    return {"out": str(out), "files": files, "check": result}
