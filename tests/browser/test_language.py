"""English / 中文 in the browser: every visible word of the Chinese page is Chinese (names and
numbers aside), and the switch in the header changes the language and keeps it."""

from __future__ import annotations

import re

from selenium.webdriver.common.keys import Keys

from dashboard import ids
from tests.browser.helpers import (
    DETAIL,
    FEATURE,
    detail_title,
    find_cell,
    pointer,
    settled_pixel_spot,
    start,
    wait_for,
    wait_for_grids,
)

# Everything a person can read on the page, or see on hovering: text, SVG text of the
# figures (titles, axes, colour bars), tooltips, the modebar's words and every hover template.
_VISIBLE_TEXT = """
const out = [document.body.innerText];
document.querySelectorAll('svg text').forEach(t => out.push(t.textContent));
document.querySelectorAll('[title]').forEach(e => out.push(e.getAttribute('title')));
document.querySelectorAll('[data-title]').forEach(e => out.push(e.getAttribute('data-title')));
document.querySelectorAll('.js-plotly-plot').forEach(gd => (gd._fullData || []).forEach(t => {
  if (typeof t.hovertemplate === 'string') out.push(t.hovertemplate);
  if (Array.isArray(t.hovertemplate)) out.push(...t.hovertemplate);
  if (Array.isArray(t.text)) out.push(...t.text.flat().map(String));
}));
const skip = document.getElementById(arguments[0]);  // the model's own class names
return out.join('\\n').replace(skip ? skip.innerText : '\\u0000', '');
"""

# Names and units a Chinese page keeps as they are.
ALLOWED = {
    "ConvScope", "TinyVGG", "VGG", "VGG11", "VGG16", "ResNet", "MobileNetV2", "MobileNetV3",
    "Small", "SqueezeNet", "RegNetY", "MF", "ImageNet", "Chelsea", "CNN", "ReLU", "BatchNorm",
    "BN", "RGB", "PNG", "JPEG", "WebP", "BMP", "GIF", "SVG", "safetensors", "pt", "CC", "assets",
    "samples", "LICENSES", "md", "px", "MB", "KB", "s", "Conv2d", "float32", "float64",
    "logit", "NaN", "Inf", "English", "H", "W", "x", "y", "z", "Fourier", "Adam",
    "block1", "block2", "features", "conv", "png",
    "AlexNet", "GoogLeNet", "EfficientNet", "B0", "DenseNet", "ConvNeXt", "Tiny",
}  # fmt: skip

_PLACEHOLDER = re.compile(r"%\{[^}]*\}|<[^>]+>|\b[\w.]+\.\d+\b")


def english_words(text: str) -> set[str]:
    """ASCII words of two or more letters left once names, units and layer names go."""
    words = set(re.findall(r"[A-Za-z][A-Za-z0-9]+", _PLACEHOLDER.sub(" ", text)))
    return {w for w in words if w not in ALLOWED and not re.fullmatch(r"[a-z]?\d+[a-z]?", w)}


def _dropdown_options(dash_duo) -> str:
    """Every dropdown's options, as a person sees them when opening it."""
    texts = []
    for dropdown in (ids.MODEL_SELECT, ids.LAYER_SELECT, ids.SAMPLE_SELECT, ids.SORT_SELECT,
                     ids.COMPARE_SELECT):  # fmt: skip
        button = dash_duo.find_element(f"#{dropdown}")
        dash_duo.driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", button)
        button.click()
        options = wait_for(
            lambda: dash_duo.driver.find_elements("css selector", ".dash-dropdown-option"),
            message=f"#{dropdown}'s options",
        )
        texts += [o.get_attribute("textContent") for o in options]
        button.send_keys(Keys.ESCAPE)
        wait_for(lambda b=button: b.get_attribute("aria-expanded") != "true", 10, "closed")
    return "\n".join(texts)


def _click_map_pixel(dash_duo) -> None:
    """Select feature map 1, then click a pixel of its detail map."""
    cell = find_cell(dash_duo, FEATURE, [None, 1, None, None])
    pointer(dash_duo, cell["x"], cell["y"], click=True)
    wait_for(lambda: "通道 1 " in detail_title(dash_duo) + " ", 30, "the detail of channel 1")
    spot = settled_pixel_spot(dash_duo, DETAIL, 3, 5)
    pointer(dash_duo, spot["x"], spot["y"], click=False)
    pointer(dash_duo, spot["x"], spot["y"], click=True)


def test_lang01_the_chinese_page_has_no_english_word_left(dash_duo, tmp_path) -> None:
    start(dash_duo)
    dash_duo.driver.get(dash_duo.server_url + "/?lang=zh")
    wait_for_grids(dash_duo)
    assert dash_duo.driver.execute_script("return document.documentElement.lang") == "zh"
    _click_map_pixel(dash_duo)
    wait_for(
        lambda: "偏置" in dash_duo.find_element(f"#{ids.EXPLAIN_TEXT}").text, 60, "explanation"
    )
    wait_for(lambda: dash_duo.find_element(f"#{ids.STATS_TEXT}").text, 60, "the statistics")
    # an error sentence too: a file that is not an image
    path = tmp_path / "notes.png"
    path.write_text("this is not an image")
    dash_duo.find_element(f"#{ids.IMAGE_UPLOAD} input[type=file]").send_keys(str(path))
    error = wait_for(lambda: dash_duo.find_element(f"#{ids.UPLOAD_STATUS}").text, 30, "error")
    assert re.search(r"[\u4e00-\u9fff]", error), error
    text = dash_duo.driver.execute_script(_VISIBLE_TEXT, ids.PREDICTIONS)
    text += "\n" + _dropdown_options(dash_duo)
    for term in ("卷积核", "特征图", "感受野"):
        assert term in text, term
    left = english_words(text)
    assert not left, f"English words on the Chinese page: {sorted(left)}"
    assert dash_duo.get_logs() == []


def test_lang02_the_english_page_is_english_and_the_checker_can_fail(dash_duo) -> None:
    start(dash_duo)
    text = dash_duo.driver.execute_script(_VISIBLE_TEXT, ids.PREDICTIONS)
    assert {"Kernels", "Feature", "maps"} <= english_words(text)
    assert not re.search(r"[\u4e00-\u9fff]", text.replace("中文", ""))


def test_lang03_the_switch_changes_the_language_and_it_is_remembered(dash_duo) -> None:
    start(dash_duo)
    heading = dash_duo.find_element("h2").text
    dash_duo.find_element(f"#{ids.LANG_SELECT} input[value='zh']").click()
    wait_for(
        lambda: dash_duo.driver.execute_script("return document.documentElement.lang") == "zh",
        30,
        "the Chinese page",
    )
    wait_for_grids(dash_duo)
    assert "lang=zh" in dash_duo.driver.current_url
    assert dash_duo.find_element("h2").text == "卷积核：模型的“眼睛”" != heading
    dash_duo.driver.get(dash_duo.server_url + "/")  # no ?lang: the cookie remembers
    wait_for_grids(dash_duo)
    assert dash_duo.find_element("h2").text == "卷积核：模型的“眼睛”"
    dash_duo.find_element(f"#{ids.LANG_SELECT} input[value='en']").click()
    wait_for(
        lambda: dash_duo.driver.execute_script("return document.documentElement.lang") == "en",
        30,
        "the English page",
    )
    wait_for_grids(dash_duo)
    assert dash_duo.find_element("h2").text == heading
    assert dash_duo.get_logs() == []
