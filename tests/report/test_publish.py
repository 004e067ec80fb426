import shutil
import subprocess
import sys
import textwrap

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from sparsekws.core.errors import UserError  # noqa: E402
from sparsekws.report.publish import PROBE_ID, check_report, find_chromium, probe_page, publish, readme  # noqa: E402

CONFIG = {"dataset": {"name": "tiny"}, "seed": 1}


def test_probe_is_added_at_the_end_of_the_body():
    page = probe_page("<html><body><p>x</p></body></html>")
    assert page.index(PROBE_ID) > page.index("<p>x</p>") and page.endswith("</body></html>")
    with pytest.raises(UserError, match="not a Snakemake HTML report"):
        probe_page("PK\x03\x04 zip")


def test_publish_copies_everything_and_lists_it(tmp_path):
    figures, tables = tmp_path / "figures", tmp_path / "tables"
    figures.mkdir()
    tables.mkdir()
    (figures / "race.png").write_bytes(b"png")
    (tables / "headline.csv").write_text("claim\n")
    (tables / ".partial.tmp").write_text("")
    report = tmp_path / "report.html"
    report.write_text("<html><body></body></html>")
    out = tmp_path / "publish"
    result = publish(CONFIG, report, figures, tables, out, check=False)
    assert (out / "report.html").read_text() == report.read_text()
    assert result["files"] == {"figures": ["race.png"], "tables": ["headline.csv"]}
    text = (out / "README.md").read_text()
    assert "`figures/race.png`: Graph 2" in text and "`tables/headline.csv`: headline" in text
    assert "git revision" in text and "config hash" in text
    with pytest.raises(UserError, match="run the workflow"):
        publish(CONFIG, tmp_path / "missing.html", figures, tables, out, check=False)


def test_readme_reports_the_browser_check():
    check = {"figures": {"a.png": {"shown": True, "width": 10, "uncropped": True, "caption": 5},
                         "b.png": {"shown": True, "width": 0, "uncropped": False, "caption": 5}},
             "screenshots": {"a.png": "/x/screenshots/a.png"}}
    text = readme(CONFIG, {}, {"git revision": "abc"}, check)
    assert "1 of 2 figures displayed, 1 whole on screen with a caption" in text and "`screenshots/`" in text


@pytest.fixture(scope="module")
def tiny_report(tmp_path_factory):
    """A real Snakemake report of a one-rule workflow with two figures (PNG and SVG)."""
    root = tmp_path_factory.mktemp("tiny")
    (root / "caption.rst").write_text("A test figure.\n")
    (root / "intro.rst").write_text("Tiny workflow introduction.\n")
    (root / "Snakefile").write_text(textwrap.dedent("""
        report: "intro.rst"
        rule all:
            input: "out/answer.png", "out/other.svg"
        rule draw:
            output:
                png=report("out/answer.png", caption="caption.rst", category="Figures"),
                svg=report("out/other.svg", caption="caption.rst", category="Figures"),
            run:
                import matplotlib
                matplotlib.use("Agg")
                import matplotlib.pyplot as plt
                fig, ax = plt.subplots(figsize=(3, 2))
                ax.plot([0, 1], [0, 1])
                fig.savefig(output.png)
                fig.savefig(output.svg)
    """))
    for args in (["--cores", "1"], ["--report", "report.html"]):
        subprocess.run([sys.executable, "-m", "snakemake", *args], cwd=root, check=True, capture_output=True)
    return root / "report.html"


@pytest.mark.skipif(find_chromium() is None, reason="Chromium is not installed (Debian package 'chromium', "
                                                    "listed in env/apt-packages.txt; CI installs it)")
def test_chromium_shows_every_figure_of_a_real_report(tiny_report, tmp_path):
    result = check_report(tiny_report, screenshots=tmp_path / "shots")
    figures = result["figures"]
    assert set(figures) == {"out/answer.png", "out/other.svg"}
    assert all(f["shown"] and f["width"] > 100 and f["uncropped"] and f["caption"] > 0 for f in figures.values())
    assert figures["out/answer.png"]["scale"] == 1.0  # 300 px wide: shown at its own size
    assert "Tiny workflow introduction" in result["landing_text"]
    assert result["main"] == "out/answer.png"
    for figure in figures:  # a screenshot of each figure's page
        shot = tmp_path / "shots" / f"{figure.split('/')[-1].rsplit('.', 1)[0]}.png"
        assert result["screenshots"][figure] == str(shot) and shot.stat().st_size > 5000
        assert plt.imread(shot).shape[:2] == (1000, 1600)
    assert result["landing_screenshot"] == str(tmp_path / "shots" / "landing.png")
    assert plt.imread(result["landing_screenshot"]).shape[:2] == (1000, 1600)


def test_missing_chromium_is_a_user_error(tiny_report, monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(UserError, match="apt-packages"):
        check_report(tiny_report)


def test_a_target_outside_all_joins_the_report_once_its_file_exists(tmp_path, monkeypatch):
    """``publish --also cross_voice=FILE``: ``snakemake --report`` runs on ``all`` and the target
    when FILE exists, on the default target otherwise."""
    from sparsekws.commands import publish as command
    from sparsekws.report import publish as library

    seen = []

    def snakemake(cmd, **kwargs):
        seen.append(cmd)
        (tmp_path / "r.html").write_text(REPORT_PAGE)
        return subprocess.CompletedProcess(cmd, 0)

    monkeypatch.setattr(command, "read_config", lambda path: CONFIG)
    monkeypatch.setattr(command, "report_metadata", lambda config: {})
    monkeypatch.setattr(command, "publish", lambda *args, **kwargs: {"out": "x", "files": {"figures": [], "tables": []},
                                                                      "check": None})
    monkeypatch.setattr(library.subprocess, "run", snakemake)
    table = tmp_path / "cross_voice.csv"
    for exists in (False, True):
        if exists:
            table.write_text("model\n")
        args = command.argparse.Namespace(config=tmp_path / "c.yaml", report=tmp_path / "r.html", skip_report=False,
                                          nolock=True, figures_dir=tmp_path, tables_dir=tmp_path, out=tmp_path / "o",
                                          no_check=True, also=[f"cross_voice={table}"])
        command.run(args)
    assert seen[0][-1] == "--nolock" and seen[1][-3:] == ["--nolock", "all", "cross_voice"]
    assert seen[0][seen[0].index("--report-stylesheet") + 1] == "workflow/report/style.css"  # run from the root


REPORT_PAGE = ('<html><body><script id="metadata">\n    var metadata = {"config hash": {"whole": "<document>", '
               '"encoding": "utf-8"}};\n    </script></body></html>')


def test_landing_page_metadata_is_shown_as_text():
    from sparsekws.report.publish import readable_metadata

    page = readable_metadata(REPORT_PAGE, {"config hash": "abc<1>"})
    assert 'var metadata = {"config hash": "abc&lt;1&gt;"};\n    </script>' in page
    with pytest.raises(UserError, match="no metadata"):
        readable_metadata("<html></html>", {})


def test_the_report_stylesheet_keeps_tall_pages_reachable():
    from sparsekws.report.publish import STYLESHEET
    from support import REPO_ROOT

    css = (REPO_ROOT / STYLESHEET).read_text()
    assert "align-items: safe center" in css and "justify-content: safe center" in css
