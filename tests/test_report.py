"""The standalone HTML report and chart images: complete, escaped, offline."""

from __future__ import annotations

import dataclasses
import json
import re

import pytest

from neurondash import Config, train
from neurondash.report import FORMATS, build_report, chart_image, report_builders

PHISH = "<img src=x onerror=alert(1)></script><script>alert(2)</script>"


@pytest.fixture(scope="module")
def run():
    return train(Config(depth=2, width="16", steps=150))


def test_the_report_holds_settings_link_findings_and_every_chart(run):
    step = run.snapshot_steps[-1]
    text = build_report(run, step, "http://host/?depth=2&width=16&steps=150")
    assert "<td>depth</td><td>2</td>" in text and "<td>lr</td>" not in text
    assert 'href="http://host/?depth=2&amp;width=16&amp;steps=150"' in text
    assert "Healthy" in text or "warning" in text
    specs = json.loads(re.search(r"const specs = (\[.*?\]);\n", text, re.S)[1])
    assert len(specs) == len(report_builders(run, step)) >= 9
    assert all(spec.get("datasets") for spec in specs), "the data travels in the file"
    assert "vegaEmbed" in text and "<script src" not in text  # the bundle is inline


def test_user_text_cannot_break_out_of_the_report(run):
    step = run.snapshot_steps[-1]
    stopped = dataclasses.replace(run, message=PHISH)
    text = build_report(stopped, step, "?x=" + PHISH)
    body = text.split("</head>", 1)[1]
    assert "<img" not in body and body.count("<script>") == 1
    assert "&lt;img src=x onerror=alert(1)&gt;" in body


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_chart_converts_offline(run, fmt):
    chart = report_builders(run, run.snapshot_steps[-1])["Loss"]()
    data = chart_image(chart, fmt)
    assert data.startswith(b"\x89PNG") if fmt == "png" else data.startswith(b"<svg")
    with pytest.raises(ValueError, match="one of png, svg"):
        chart_image(chart, "gif")
