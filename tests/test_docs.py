"""The documentation site: it builds from the checkout with warnings as errors (so it cannot rot), and a real
headless browser (Debian's Chromium, driven by Playwright) shows a tutorial's images and renders its math.

The gallery runs the demos' quick plans (seed 0) into the test session's shared run cache, which the claims
tests have already filled: the build recomputes nothing they ran."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
SCREENSHOTS = ROOT / "docs" / "_build" / "screenshots"  # looked at by a person: not asserted pixel by pixel


@pytest.fixture(scope="module")
def site(demo_runs) -> Path:
    pytest.importorskip("sphinx")
    pytest.importorskip("myst_nb")
    env = {**os.environ, "TINYGRAD_CG_DOCS_RUNS": str(demo_runs), "MPLBACKEND": "Agg"}  # conf.py unsets it
    built = subprocess.run([sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "docs", "docs/_build/html"],
                           cwd=ROOT, env=env, capture_output=True, text=True, timeout=1200)
    assert built.returncode == 0, built.stderr[-4000:]
    return ROOT / "docs" / "_build" / "html"


@pytest.mark.slow
def test_the_site_has_every_page_the_readme_promises(site):
    for page in ["index", "getting-started", "tutorials/01_backprop_by_hand", "tutorials/02_write_your_own_layer",
                 "tutorials/03_failures_in_miniature", "tutorials/04_depth",
                 "gallery/index", "results/README", "api/layers", "api/optim",
                 "errors", "benchmarks"]:
        assert (site / f"{page}.html").exists(), page
    for demo in ["parity", "optimizers", "flat_activations", "pwl_conditioning", "e2e_vs_decomposition", "depth"]:
        html = (site / "gallery" / f"{demo}.html").read_text()
        assert "<table" in html and ".png" in html and "held" in html, demo  # claims table and figures
    adam = (site / "api" / "optim.html").read_text()
    assert "Kingma" in adam and r"\beta_1" in adam  # the formula, as math for MathJax


@pytest.fixture(scope="module")
def browser():
    if CHROMIUM is None:
        pytest.skip("no chromium: apt-get install chromium")
    playwright = pytest.importorskip("playwright.sync_api")
    with playwright.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-first-run"])
        yield chromium
        chromium.close()


def open_page(browser, path: Path):
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(path.as_uri(), wait_until="load")
    if page.locator("script[src*='mathjax']").count():  # Sphinx loads MathJax only on pages with math
        page.wait_for_function("() => window.MathJax && MathJax.startup && MathJax.startup.promise", timeout=30_000)
        page.evaluate("() => MathJax.startup.promise")  # typesetting done
    return page


IMAGES = """() => Array.from(document.querySelectorAll('article img')).map(img => [img.src, img.complete,
img.naturalWidth])"""


@pytest.mark.slow
def test_a_tutorial_page_shows_its_outputs_and_renders_its_math(site, browser):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page = open_page(browser, site / "tutorials" / "01_backprop_by_hand.html")
    images = page.evaluate(IMAGES)
    assert len(images) >= 2, images  # the graph drawn before and after the backward pass
    assert all(complete and width > 0 for _, complete, width in images), images  # every one loaded
    assert page.locator("mjx-container").count() >= 3  # $p = w x$ and friends typeset by MathJax ...
    assert page.locator("text=\\(").count() == 0  # ... so no raw TeX delimiters are left on the page
    assert "-8." in page.inner_text("article")  # an executed cell's printed output: w.delta = -8
    player = page.locator("div.animation img")  # viz.animate's player (matplotlib's jshtml) with its first frame
    assert player.count() == 1 and player.evaluate("img => img.naturalWidth") > 100
    assert page.locator("div.animation input[type=range]").count() == 1  # the slider over the frames
    page.screenshot(path=str(SCREENSHOTS / "tutorial_01.png"), full_page=False)
    page.close()


@pytest.mark.slow
def test_the_api_and_gallery_pages_render_formulas_and_figures(site, browser):
    page = open_page(browser, site / "api" / "optim.html")
    assert page.locator("mjx-container").count() >= 7  # one update rule per optimizer at least
    adam = page.locator("[id='tinygrad_cg.optim.adaptive.Adam']")
    adam.scroll_into_view_if_needed()
    assert page.locator("[id='tinygrad_cg.optim.adaptive.Adam'] + dd mjx-container").count() >= 1  # Adam's rule
    page.screenshot(path=str(SCREENSHOTS / "api_optim_adam.png"))
    page.close()
    page = open_page(browser, site / "gallery" / "parity.html")
    images = page.evaluate(IMAGES)
    assert len(images) >= 3 and all(complete and width > 0 for _, complete, width in images), images
    page.screenshot(path=str(SCREENSHOTS / "gallery_parity.png"), full_page=True)
    page.close()


def test_no_committed_page_or_module_is_bloated():
    """A scripted edit once multiplied docs/results/README.md to 39 MB (a replace with an empty pattern puts the
    new text between every character); a reader gets a page of a few tens of KB, and so does git."""
    git = shutil.which("git")
    if git is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    tracked = subprocess.run([git, "ls-files", "*.md", "*.py", "*.rst", "*.toml"], cwd=ROOT, capture_output=True,
                             text=True, check=True).stdout.split()
    sizes = {name: (ROOT / name).stat().st_size for name in tracked if (ROOT / name).exists()}
    assert sizes and not {name: size for name, size in sizes.items() if size > 200_000}
