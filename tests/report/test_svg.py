"""report/svg.py: exact output for ticks, number formats and one small chart, the way
rich tests its renderables (render to a string, compare with what a person checked)."""

from __future__ import annotations

import pytest

from fwbench.report.svg import Bar, bar_chart, fmt_number, log_ticks, nice_ticks


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0, "0"),
        (12_000, "12,000"),
        (1_234.4, "1,234"),
        (-150, "-150"),
        (99.96, "100"),
        (25.0, "25"),
        (12.5, "12.5"),
        (3.0, "3"),
        (2.5, "2.5"),
        (0.25, "0.25"),
        (0.1, "0.1"),
    ],
)
def test_numbers_have_separators_and_no_spurious_decimals(value: float, text: str) -> None:
    assert fmt_number(value) == text


@pytest.mark.parametrize(
    ("high", "ticks"),
    [
        (100, [0, 20, 40, 60, 80, 100]),
        (12_600, [0, 5_000, 10_000, 15_000]),  # a 2,500 step would need six ticks
        (7, [0, 2, 4, 6, 8]),
        (1.05, [0, 0.25, 0.5, 0.75, 1, 1.25]),
        (0, [0, 1]),
    ],
)
def test_linear_ticks_are_round_steps_from_zero_past_the_highest_value(
    high: float, ticks: list[float]
) -> None:
    assert nice_ticks(high) == ticks


@pytest.mark.parametrize(
    ("low", "high", "ticks"),
    [
        (3, 700, [5, 10, 20, 50, 100, 200, 500]),
        (0.4, 30, [0.5, 1, 2, 5, 10, 20]),
        (1, 1, [1]),
    ],
)
def test_log_ticks_are_1_2_5_steps_within_the_range(
    low: float, high: float, ticks: list[float]
) -> None:
    assert log_ticks(low, high) == ticks


#: A one-bar chart as it must render: labels escaped, ticks 0-200 every 50 over the
#: 190 px plotting area (x 100-290), segments stacked (the second lighter), the note
#: after the bar, the legend's opacities as given.
EXPECTED_BAR_CHART = "".join(
    [
        '<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 400 138" '
        'width="400" height="138" role="img" font-family="system-ui, -apple-system, '
        "'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif\" "
        'aria-label="Memory &amp; more">',
        "<title>Memory &amp; more</title>",
        '<text x="16.0" y="22.0" font-size="15" font-weight="600" fill="#1f2328">'
        "Memory &amp; more</text>",
        '<line x1="100.0" y1="40.0" x2="100.0" y2="70.0" stroke="#d8dee4"/>',
        '<text x="100.0" y="86.0" font-size="11" fill="#57606a" text-anchor="middle">0</text>',
        '<line x1="147.5" y1="40.0" x2="147.5" y2="70.0" stroke="#d8dee4"/>',
        '<text x="147.5" y="86.0" font-size="11" fill="#57606a" text-anchor="middle">50</text>',
        '<line x1="195.0" y1="40.0" x2="195.0" y2="70.0" stroke="#d8dee4"/>',
        '<text x="195.0" y="86.0" font-size="11" fill="#57606a" text-anchor="middle">100</text>',
        '<line x1="242.5" y1="40.0" x2="242.5" y2="70.0" stroke="#d8dee4"/>',
        '<text x="242.5" y="86.0" font-size="11" fill="#57606a" text-anchor="middle">150</text>',
        '<line x1="290.0" y1="40.0" x2="290.0" y2="70.0" stroke="#d8dee4"/>',
        '<text x="290.0" y="86.0" font-size="11" fill="#57606a" text-anchor="middle">200</text>',
        '<text x="195.0" y="106.0" font-size="12" fill="#1f2328" text-anchor="middle">MB</text>',
        '<text x="92.0" y="59.0" font-size="12" fill="#1f2328" text-anchor="end">'
        "Flask &lt;sync&gt;</text>",
        '<g class="bar" data-label="Flask &lt;sync&gt;">',
        '<rect x="100.0" y="46.0" width="114.0" height="18" fill="#0072B2" fill-opacity="1" '
        'stroke="#ffffff" stroke-width="0.8"><title>Flask &lt;sync&gt;: workers 120</title></rect>',
        '<rect x="214.0" y="46.0" width="28.5" height="18" fill="#0072B2" fill-opacity="0.45" '
        'stroke="#ffffff" stroke-width="0.8"><title>Flask &lt;sync&gt;: master 30</title></rect>',
        '<text x="248.5" y="59.0" font-size="11" fill="#57606a">150 MB</text>',
        "</g>",
        '<rect x="100.0" y="114.0" width="14" height="12" fill="#57606a" fill-opacity="1"/>',
        '<text x="120.0" y="124.0" font-size="12" fill="#1f2328">workers</text>',
        '<rect x="190.4" y="114.0" width="14" height="12" fill="#57606a" fill-opacity="0.45"/>',
        '<text x="210.4" y="124.0" font-size="12" fill="#1f2328">master</text>',
        "</svg>",
    ]
)


def test_a_small_bar_chart_renders_exactly() -> None:
    chart = bar_chart(
        [Bar("Flask <sync>", "flask", ((120.0, "workers"), (30.0, "master")), note="150 MB")],
        title="Memory & more",
        x_label="MB",
        width=400,
        legend=(("workers", 1.0), ("master", 0.45)),
    )
    assert chart == EXPECTED_BAR_CHART
