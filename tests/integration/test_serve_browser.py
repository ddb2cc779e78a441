"""A real browser against a running `stdp-mnist serve`: Chromium (the distribution's
package, /usr/bin/chromium and /usr/bin/chromedriver) driven by Selenium draws a digit
with the mouse on a tiny run trained here on synthetic bar digits; the page's classes
must be those `stdp-mnist predict` gives for the pixels the page drew, and the rasters
and receptive fields must appear; the server stops cleanly on SIGINT. The browser is
driven by scripts/serve_screenshot.py's functions. Marked ``browser`` (left out of the
default run; .ci/run installs what it needs and runs it)."""

import base64
import re
from pathlib import Path

import pytest
from helpers.cli import CLI, invoke
from helpers.runs import write_bar_data, write_config
from helpers.scripts import load_script

pytestmark = pytest.mark.browser
page = load_script("serve_screenshot")

# 12 neurons trained on 300 examples (5 passes over 60 bar digits), then evaluated.
BAR_RUN_TOML = """\
[network]
n_excitatory = 12
max_delay_ms = 5.0

[simulation]
present_ms = 100.0
rest_ms = 50.0

[training]
passes = 5

[run]
checkpoint_every = 300
metrics_every = 100

[evaluation]
n_assign = 60
n_test = 30
block_size = 10
"""
# A slightly slanted one, drawn top to bottom.
ONE = (((10, -90), (5, -30), (0, 30), (-8, 90)),)


@pytest.fixture(scope="module")
def bar_run(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("browser")
    config = write_config(root / "bar.toml", write_bar_data(root / "bars"), BAR_RUN_TOML)
    result = invoke("train", "--config", config, "--run-dir", root / "run", "--evaluate")
    assert result.exit_code == 0, result.output
    return root / "run"


@pytest.fixture
def browser(tmp_path):
    if not (page.CHROMIUM.exists() and page.CHROMEDRIVER.exists()):
        pytest.skip("needs chromium and chromium-driver (apt-get install chromium chromium-driver)")
    pytest.importorskip("selenium")
    driver = page.chromium(tmp_path / "profile")
    yield driver
    driver.quit()


def test_drawn_digit_is_classified_as_predict_classifies_its_pixels(bar_run, browser, tmp_path):
    from selenium.webdriver.common.by import By

    with page.serving(bar_run, CLI) as url:  # raises unless the server stops with exit 0
        page.draw_and_classify(browser, url, ONE)
        shown = {
            r: browser.find_element(By.ID, f"prediction-{r}").text for r in ("all", "proportion", "linear")
        }
        status = browser.find_element(By.ID, "status").text
        data_url = browser.execute_script("return document.getElementById('digit').toDataURL('image/png');")
        rasters = {
            name: int(browser.find_element(By.ID, name).get_attribute("data-spikes"))
            for name in ("input-raster", "exc-raster")
        }
        fields = browser.find_elements(By.CSS_SELECTOR, "#fields .field canvas")
        bars = browser.find_elements(By.CSS_SELECTOR, "#votes .bar")
        figures = browser.find_elements(By.CSS_SELECTOR, "#figures img")
        loaded = [browser.execute_script("return arguments[0].naturalWidth", img) for img in figures]

    drawn = tmp_path / "drawn.png"
    drawn.write_bytes(base64.b64decode(data_url.split(",", 1)[1]))
    for readout, label in shown.items():
        result = invoke("predict", bar_run, drawn, "--readout", readout)
        assert result.exit_code == 0, result.output
        assert label == re.search(r": (\d)  confidence", result.stdout).group(1), readout
    spikes = int(re.search(r"(\d+) excitatory spikes", status).group(1))
    assert rasters["input-raster"] > 0 and rasters["exc-raster"] == spikes
    assert (len(fields) > 0) == (spikes > 0) and len(bars) == 10
    assert len(loaded) >= 4 and all(width > 0 for width in loaded)  # the run's figures, each loaded
