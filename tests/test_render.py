"""The rendering pieces: words, dates, the body, references and glyphs."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from coalitionletter import render
from coalitionletter.campaigns import letter_text
from coalitionletter.errors import RenderError
from coalitionletter.render import han_language, han_runs

VALUES = {
    "signatory_count": "71",
    "signatory_count_words": "seventy-one",
    "other_signatory_count": "70",
    "other_signatory_count_words": "seventy",
    "recipient_name": "The Rt Hon Dominic Raab MP",
    "recipient_title": "Secretary of State",
    "date": "18 August 2020",
    "lead_organisation": "International Lawyers Project",
}


@pytest.mark.parametrize(
    ("number", "words"),
    [
        (0, "zero"),
        (7, "seven"),
        (19, "nineteen"),
        (40, "forty"),
        (71, "seventy-one"),
        (100, "one hundred"),
        (105, "one hundred and five"),
        (1071, "one thousand and seventy-one"),
        (2300, "two thousand three hundred"),
        (10_000, "ten thousand"),
    ],
)
def test_counts_are_written_in_british_words(number, words):
    assert render.number_words(number, "en-GB") == words


def test_american_words_leave_out_and():
    assert render.number_words(105, "en-US") == "one hundred five"


def test_the_date_follows_the_recipients_locale():
    day = date(2020, 8, 18)
    assert render.format_letter_date(day, "en-GB") == "18 August 2020"
    assert render.format_letter_date(day, "en-CA") == "August 18, 2020"


def test_placeholders_are_filled_and_marked():
    html = letter_text.body_html("We, {{ signatory_count }} groups, write.", VALUES)
    assert '<span data-placeholder="signatory_count">71</span>' in html


def test_placeholder_values_are_escaped():
    values = {**VALUES, "lead_organisation": "<b>X</b> & Co"}
    html = letter_text.body_html("From {{ lead_organisation }}.", values)
    assert "&lt;b&gt;X&lt;/b&gt; &amp; Co" in html and "<b>" not in html


def test_raw_html_in_the_body_is_printed_as_text():
    html = letter_text.body_html("A <script>alert(1)</script> B", VALUES)
    assert "<script>" not in html and "&lt;script&gt;" in html


def test_a_blank_placeholder_value_stops_rendering():
    with pytest.raises(RenderError, match="has no value"):
        letter_text.body_html("To {{ recipient_title }}.", {**VALUES, "recipient_title": " "})


def test_a_placeholder_inside_a_link_never_prints_literally():
    with pytest.raises(RenderError, match="still holds"):
        letter_text.body_html("[see](http://example.org/{{date}})", VALUES)


def test_text_direction_follows_the_first_strong_character():
    assert render.text_direction("ئۇيغۇر ئاياللار بىرلىكى") == "rtl"
    assert render.text_direction("(加拿大香港之友)") == "ltr"
    assert render.text_direction("123 Rights") == "ltr"


def test_only_template_files_and_data_uris_may_be_loaded(tmp_path: Path):
    root = tmp_path / "templates"
    (root / "static").mkdir(parents=True)
    base = root.as_uri() + "/"
    html = (
        '<img src="data:image/png;base64,AA=="><img src="static/logo.png">'
        '<img src="file:///etc/passwd"><link rel="stylesheet" href="http://127.0.0.1:9/x.css">'
        '<div style="background: url(https://example.org/t.png)"></div>'
        "<style>@import 'ftp://example.org/a.css';</style>"
        '<img src="../../etc/passwd"><a href="https://example.org/">a link loads nothing</a>'
    )
    refused = render.refused_references(html, [root.resolve()], base)
    assert refused == sorted(
        [
            "../../etc/passwd",
            "file:///etc/passwd",
            "ftp://example.org/a.css",
            "http://127.0.0.1:9/x.css",
            "https://example.org/t.png",
        ]
    )


def test_a_character_no_font_covers_is_reported_by_label():
    toto = "\U0001e290"  # TOTO LETTER PA: assigned, but in no installed font
    assert not render.is_covered(toto) and render.is_covered("a")
    missing = render.missing_glyphs({"Latin": "Rights", "Toto": f"Group {toto}"})
    assert missing == {"Toto": [toto]}
    assert render.describe_missing(missing) == [
        "Toto: no installed font has U+1E290 TOTO LETTER PA"
    ]


def test_chinese_and_uyghur_names_are_covered_by_installed_fonts():
    assert render.missing_glyphs({"zh": "加拿大香港之友", "ug": "ئۇيغۇر ئاياللار بىرلىكى"}) == {}


def test_an_override_can_extend_the_default_it_replaces(tmp_path: Path):
    campaign = tmp_path / "letters" / "x"
    (campaign / "templates" / "web").mkdir(parents=True)
    (campaign / "templates" / "web" / "base.html").write_text(
        '{% extends "default:web/base.html" %}'
        "{% block title %}Campaign {{ super() }}{% endblock %}"
        "{% block main %}<p>{{ who }}</p>{% endblock %}",
        "utf-8",
    )
    environment = render.make_environment(None, campaign)
    page = environment.get_template("web/base.html").render(
        who="<b>A</b> & Co", language="en", language_links=[]
    )
    assert "<title>Campaign Sign-on</title>" in page  # the override's block around the default's
    assert '<link rel="stylesheet" href="/static/web.css">' in page  # the rest is the default's
    assert "<p>&lt;b&gt;A&lt;/b&gt; &amp; Co</p>" in page  # autoescape stays on


def test_a_private_use_character_is_reported_missing():
    assert render.missing_glyphs({"PUA": "Rights \ue000"}) == {"PUA": ["\ue000"]}


def test_spaces_and_joiners_need_no_glyph():
    assert render.missing_glyphs({"ug": "ئۇيغۇر\u200cئاياللار\u00a0بىرلىكى\n"}) == {}


@pytest.mark.parametrize(
    ("name", "country", "language"),
    [
        ("香港民主委員會", None, "zh-Hant"),  # 會 and 員 are Traditional only
        ("世界维吾尔代表大会", None, "zh-Hans"),  # 维 and 会 are Simplified only
        ("加拿大香港之友", "HK", "zh-Hant"),  # common to both: the country decides
        ("加拿大香港之友", "CN", "zh-Hans"),
        ("Canadian Friends of Hong Kong (加拿大香港之友)", "CA", "zh"),
        ("日本ウイグル協会", "JP", "ja"),
        ("Uyghur Human Rights Project", "US", None),
    ],
)
def test_the_language_of_a_names_chinese_characters(
    name: str, country: str | None, language: str | None
) -> None:
    assert han_language(name, country) == language


def test_han_runs_wraps_each_run_and_escapes_the_rest() -> None:
    html = han_runs("<b>A</b> 香港 & 台灣 B", "zh-Hant")
    assert str(html) == (
        '&lt;b&gt;A&lt;/b&gt; <span class="han" lang="zh-Hant">香港</span> &amp; '
        '<span class="han" lang="zh-Hant">台灣</span> B'
    )
    assert str(han_runs("<b>Latin</b>", None)) == "&lt;b&gt;Latin&lt;/b&gt;"
