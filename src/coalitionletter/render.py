"""Rendering: the one place that knows Jinja and WeasyPrint.

One function builds the Jinja environment used by the letters, the count
sheet, the emails and the web pages alike. Loader order: the campaign's own
`templates/`, the workspace's `templates/`, then the packaged defaults, which
are also reachable as `default:<name>` so an override can extend what it
replaces. Autoescaping is on for every HTML template.

Nothing a letter prints may reach outside: stylesheets and images are inlined
from the template folders (so the HTML stands alone and rebuilds byte for
byte), any other reference in the rendered HTML is refused before WeasyPrint
sees it, and WeasyPrint itself gets a URL fetcher that serves only files under
the template folders and `data:` URIs. WeasyPrint is imported inside the PDF
function so that commands making no PDF start fast.
"""

from __future__ import annotations

import base64
import logging
import mimetypes
import re
import shutil
import subprocess
import unicodedata
from bisect import bisect_right
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from functools import cache
from html.parser import HTMLParser
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit
from urllib.request import url2pathname

from markupsafe import Markup, escape

from coalitionletter.errors import RenderError

if TYPE_CHECKING:
    from jinja2 import Environment

log = logging.getLogger(__name__)

PACKAGE_DIR = Path(__file__).parent
STATIC = "static"


@cache
def packaged_templates_dir() -> Path:
    """The default templates shipped with the package (the repo's templates/ when editable)."""
    bundled = PACKAGE_DIR / "default_templates"
    if bundled.is_dir():
        return bundled
    return PACKAGE_DIR.parent.parent / "templates"


def template_dirs(workspace_templates: Path | None, campaign_dir: Path | None = None) -> list[Path]:
    """The template folders searched, first match wins."""
    dirs: list[Path] = []
    if campaign_dir is not None and (campaign_dir / "templates").is_dir():
        dirs.append(campaign_dir / "templates")
    if workspace_templates is not None and workspace_templates.is_dir():
        dirs.append(workspace_templates)
    default = packaged_templates_dir()
    if default not in [d.resolve() for d in dirs]:
        dirs.append(default)
    return dirs


def allowed_roots(workspace_templates: Path | None, campaign_dir: Path | None = None) -> list[Path]:
    """The only folders a letter may load files from: the template layers (with static/)."""
    roots = [d.resolve() for d in template_dirs(workspace_templates, campaign_dir)]
    if workspace_templates is not None and (workspace_templates.parent / STATIC).is_dir():
        roots.append((workspace_templates.parent / STATIC).resolve())
    return roots


def _static_file(dirs: list[Path], name: str) -> Path:
    """The first layer's static/<name>, refusing names that climb out of static/."""
    if not name or name.startswith(("/", "\\")) or ".." in Path(name).parts:
        raise RenderError(f"Static file name {name!r} must be a plain path inside static/.")
    for folder in dirs:
        candidate = (folder / STATIC / name).resolve()
        if candidate.is_file() and (folder / STATIC).resolve() in candidate.parents:
            return candidate
    raise RenderError(
        f"No template folder has static/{name}. Searched: {', '.join(str(d) for d in dirs)}."
    )


def make_environment(
    workspace_templates: Path | None, campaign_dir: Path | None = None
) -> Environment:
    """Build the Jinja environment (layered loaders, autoescape, strict undefined)."""
    # Imported here so that a build with nothing to render never loads Jinja.
    from jinja2 import (
        ChoiceLoader,
        Environment,
        FileSystemLoader,
        PrefixLoader,
        StrictUndefined,
        pass_context,
        select_autoescape,
    )

    dirs = template_dirs(workspace_templates, campaign_dir)
    loaders = [FileSystemLoader(str(d)) for d in dirs]
    defaults = FileSystemLoader(str(packaged_templates_dir()))
    loader = ChoiceLoader([*loaders, PrefixLoader({"default": defaults}, delimiter=":")])
    environment = Environment(
        loader=loader,
        extensions=["jinja2.ext.i18n"],
        autoescape=select_autoescape(
            enabled_extensions=("html", "htm", "xml", "svg"), default_for_string=True
        ),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )

    # Stylesheets and images come from the template folders only, inlined so that
    # the HTML needs nothing beside it and holds no machine-specific path.
    def inline_css(name: str) -> Markup:
        css = _static_file(dirs, name).read_text("utf-8")
        if "</" in css:
            raise RenderError(f"static/{name} contains '</', which would end its <style> tag.")
        return Markup(css)  # noqa: S704 - a file from the template folders, not outside data

    def asset_uri(name: str) -> str:
        path = _static_file(dirs, name)
        kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return f"data:{kind};base64,{base64.b64encode(path.read_bytes()).decode('ascii')}"

    environment.globals.update(inline_css=inline_css, asset_uri=asset_uri)
    _install_catalogs(environment, workspace_templates)
    environment.filters.update(
        han_runs=han_runs,
        day=pass_context(_day),
        moment=pass_context(_moment),
        number=pass_context(_number),
    )
    return environment


# Dates on pages and emails rendered with no language (count sheets) are British English.
PAGE_LOCALE = "en-GB"


def _page_locale(context: Any) -> str:
    from coalitionletter.catalogs import date_locale

    language = context.get("language")
    return str(context.get("locale") or (date_locale(language) if language else PAGE_LOCALE))


def _install_catalogs(environment: Environment, workspace_templates: Path | None) -> None:
    """Jinja's i18n extension, translating into each render's `language` (a context value).

    The environment is shared by every language, so the catalog is chosen per render
    from the context rather than installed once. Newstyle gettext: `%(name)s`
    placeholders, and values are escaped in HTML like any other output.
    """
    from jinja2 import pass_context

    from coalitionletter import catalogs

    home = workspace_templates.parent if workspace_templates is not None else None
    folders = catalogs.catalog_folders(home)

    def words(context: Any) -> Any:
        return catalogs.translations(context.get("language"), folders)

    @pass_context
    def gettext(context: Any, message: str) -> str:
        return str(words(context).ugettext(message))

    @pass_context
    def ngettext(context: Any, singular: str, plural: str, number: int) -> str:
        return str(words(context).ungettext(singular, plural, number))

    @pass_context
    def pgettext(context: Any, msgctxt: str, message: str) -> str:
        return str(words(context).upgettext(msgctxt, message))

    environment.policies["ext.i18n.trimmed"] = True
    environment.install_gettext_callables(  # type: ignore[attr-defined]
        gettext, ngettext, newstyle=True, pgettext=pgettext
    )

    @pass_context
    def translated(context: Any, value: Any) -> str:
        """Words marked with N_ in code, in this render's language (other text as it is)."""
        if isinstance(value, catalogs.Words):
            return value.in_language(words(context))
        return value

    environment.filters["translated"] = translated
    environment.globals.update(
        language_name=catalogs.language_name,
        text_direction_of=catalogs.direction,
        letter_words=lambda language: letter_words(language, folders),
    )


# Stand-ins for the footer's counters while its sentence is translated whole.
_PAGE, _PAGES = "\x00", "\x01"


def letter_words(language: str | None, folders: tuple[Path, ...]) -> dict[str, Any]:
    """The words a letter prints around its text, in one version's language (the catalogs').

    A file may hold several versions, each in its language, so the templates ask for
    each version's words rather than take the render's one language.
    """
    from coalitionletter import catalogs

    words = catalogs.translations(
        catalogs.best_language([language], folders, catalogs.SOURCE_LANGUAGE), folders
    )
    footer = words.ugettext("Page %(page)s of %(pages)s") % {"page": _PAGE, "pages": _PAGES}
    before, rest = footer.split(_PAGE, 1)
    between, after = rest.split(_PAGES, 1)

    def withheld(count: int) -> str:
        return words.ungettext(
            "and %(number)s organisation that cannot be named for its safety",
            "and %(number)s organisations that cannot be named for their safety",
            count,
        ) % {"number": count}

    return {
        "re": words.ugettext("Re:"),
        "on_behalf": words.ugettext("on behalf of the signatory organisations listed below"),
        "signatories": words.ugettext("Signatories"),
        "withheld": withheld,
        # The footer as CSS content: before counter(page), between, after counter(pages).
        "page_footer": (before, between, after),
    }


def _day(context: Any, value: date | datetime) -> str:
    """A date in the page's locale, as the letters write theirs: '14 August 2020'.

    A moment's day is the day in the campaign's zone, when the page names one.
    """
    from coalitionletter.dates import format_day, time_zone

    if isinstance(value, datetime):
        named = context.get("time_zone")
        value = (value.astimezone(time_zone(named)) if named else value).date()
    return format_day(value, _page_locale(context))


def _number(context: Any, value: float, decimals: int = 0) -> str:
    """A number as the page's locale writes it: 1,234 in English, 1 234 in French.

    With `decimals`, always that many after the point: 12.5 (English), 12,5 (French).
    """
    from babel.numbers import format_decimal

    from coalitionletter.dates import babel_locale

    pattern = f"#,##0.{'0' * decimals}" if decimals else None
    return str(format_decimal(value, pattern, locale=babel_locale(_page_locale(context))))


def _moment(context: Any, value: datetime) -> str:
    """A moment in the page's locale and zone, named: '14 August 2020, 17:00 (UTC)'."""
    from coalitionletter.dates import format_moment, time_zone

    # Without a campaign zone, a moment is shown in the offset it was given in
    # (a deadline written with +01:00 in letter.toml); stored times are UTC.
    named = context.get("time_zone")
    zone = time_zone(named) if named else (value.tzinfo or time_zone(None))
    return format_moment(value, zone, _page_locale(context))


# --- words and dates -------------------------------------------------

_ONES = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
]
_TENS = ["_", "_", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
_SCALES = ((1_000_000_000, "billion"), (1_000_000, "million"), (1_000, "thousand"))


# French counts of organisations (a feminine noun) end in "une", not "un": vingt et une.
_FRENCH_FINAL_ONE = re.compile(r"(^|[\s-])un$")


def _words_by_num2words(number: int, locale: str) -> str:
    """A count of organisations in words in a language other than English (num2words)."""
    from num2words import CONVERTER_CLASSES, num2words

    parts = locale.replace("-", "_").split("_")
    language = parts[0].lower()
    candidates = [f"{language}_{parts[-1].upper()}", language] if len(parts) > 1 else [language]
    found = next((c for c in candidates if c in CONVERTER_CLASSES), None)
    if found is None:
        raise RenderError(
            f"Numbers cannot be written in words in {locale!r}. Write the count in figures "
            "in that version ({{ signatory_count }}) or ask for the language to be added."
        )
    words = str(num2words(number, lang=found))
    if language == "fr":
        words = _FRENCH_FINAL_ONE.sub(r"\1une", words)
    return words


def number_words(number: int, locale: str = "en-GB") -> str:
    """A count of organisations in the locale's words: 71 -> "seventy-one", "soixante et onze".

    English is written here (with "and" outside the US); other languages by
    num2words, French in the feminine that "organisations" takes (vingt et une).
    """
    if number < 0:
        raise ValueError("counts are never negative")
    if not locale.replace("_", "-").lower().startswith("en"):
        return _words_by_num2words(number, locale)
    conjunction = " " if locale.replace("_", "-").upper() == "EN-US" else " and "

    def below_thousand(n: int) -> str:
        hundreds, rest = divmod(n, 100)
        words = f"{_ONES[hundreds]} hundred" if hundreds else ""
        if rest:
            tens = _ONES[rest] if rest < 20 else _TENS[rest // 10]
            if rest >= 20 and rest % 10:
                tens = f"{tens}-{_ONES[rest % 10]}"
            words = f"{words}{conjunction}{tens}" if words else tens
        return words

    if number == 0:
        return "zero"
    parts: list[str] = []
    for value, name in _SCALES:
        if number >= value:
            parts.append(f"{below_thousand(number // value)} {name}")
            number %= value
    if number:
        last = below_thousand(number)
        parts.append(f"and {last}" if parts and number < 100 and conjunction != " " else last)
    return " ".join(parts)


def language_name(code: str) -> str:
    """A language's name in that language, capitalised as a link to it reads: "Français"."""
    from babel import Locale

    name = Locale.parse(code, sep="-").get_display_name(code) or code
    return name[:1].upper() + name[1:]


def format_letter_date(day: date, locale: str) -> str:
    """The date as the recipient's locale writes it: 18 August 2020 (en-GB)."""
    from coalitionletter.dates import format_day

    return format_day(day, locale)


def text_direction(text: str) -> str:
    """ "rtl" when the first strong character is right-to-left (Arabic, Hebrew), else "ltr"."""
    for char in text:
        kind = unicodedata.bidirectional(char)
        if kind in ("R", "AL"):
            return "rtl"
        if kind == "L":
            return "ltr"
    return "ltr"


# --- Chinese (Han) runs in names ------------------------------------------------------

# Ideographs (with radicals, strokes, iteration marks, extensions B-G) and the CJK and
# full-width punctuation that sits between them; the ideographic space is a break.
_HAN_RUN = re.compile(
    "[\u2e80-\u2fdf\u3001-\u303f\u3100-\u312f\u31a0-\u31ef\u3400-\u4dbf"
    "\u4e00-\u9fff\uf900-\ufaff\uff01-\uff60\U00020000-\U0003134f]+"
)
# Where the characters fit both scripts, the organisation's country decides.
_COUNTRY_HAN_LANGUAGE = {
    "TW": "zh-Hant",
    "HK": "zh-Hant",
    "MO": "zh-Hant",
    "CN": "zh-Hans",
    "SG": "zh-Hans",
    "MY": "zh-Hans",
    "JP": "ja",
    "KR": "ko",
}


def han_language(name: str, country: str | None = None) -> str | None:
    """The language tag of a name's Han characters (zh-Hant, zh-Hans, zh, ja, ko), or None.

    Japanese and Korean organisations' Han are kanji and hanja (their country says
    so). Otherwise the characters decide: any found only in Traditional Chinese
    make zh-Hant, only in Simplified zh-Hans (hanzidentifier's tables). Characters
    common to both (加拿大香港之友) take the country's script (Taiwan, Hong Kong,
    Macao: Traditional; mainland China, Singapore, Malaysia: Simplified), and
    plain "zh" when the country says nothing.
    """
    han = "".join(_HAN_RUN.findall(name))
    if not han:
        return None
    hint = _COUNTRY_HAN_LANGUAGE.get((country or "").upper())
    if hint in ("ja", "ko"):
        return hint
    import hanzidentifier

    kind = hanzidentifier.identify(han)
    if kind == hanzidentifier.TRADITIONAL:
        return "zh-Hant"
    if kind == hanzidentifier.SIMPLIFIED:
        return "zh-Hans"
    return hint or "zh"


def han_runs(name: str, language: str | None) -> Markup:
    """The name as HTML, each Han run in a `<span class="han" lang=...>` kept on one line.

    A line may break between Latin words but never inside a Chinese name, and the
    language picks the Traditional or Simplified face in the stylesheets.
    """
    if not language:
        return escape(name)
    parts: list[str] = []
    end = 0
    for match in _HAN_RUN.finditer(name):
        parts.append(str(escape(name[end : match.start()])))
        parts.append(f'<span class="han" lang="{language}">{escape(match.group(0))}</span>')
        end = match.end()
    parts.append(str(escape(name[end:])))
    return Markup("".join(parts))  # noqa: S704 - every piece of the name escaped above


# --- references: nothing reaches outside ---------------------------------------------

# Attributes through which a document loads something (a plain <a href> loads nothing).
_LOADING_ATTRIBUTES = {"src", "srcset", "poster", "data", "background", "lowsrc", "xlink:href"}
_LOADING_HREF_TAGS = {"link", "image", "use", "feimage", "base"}
_CSS_URL = re.compile(r"url\(\s*(['\"]?)(.*?)\1\s*\)|@import\s+(['\"])(.*?)\3", re.IGNORECASE)


def _css_references(css: str) -> list[str]:
    return [m.group(2) or m.group(4) or "" for m in _CSS_URL.finditer(css)]


class _ReferenceCollector(HTMLParser):
    """Collects every URL the document would load: attributes, inline styles, <style>."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.references: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if value is None:
                continue
            if name in _LOADING_ATTRIBUTES or (name == "href" and tag in _LOADING_HREF_TAGS):
                parts = value.split(",") if name == "srcset" else [value]
                self.references.extend(p.strip().split(" ")[0] for p in parts)
            elif name == "style":
                self.references.extend(_css_references(value))
            elif tag == "meta" and name == "content" and "url=" in value.lower():
                self.references.append(value.lower().split("url=", 1)[1])
        self._in_style = tag == "style"

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        self._in_style = False

    def handle_endtag(self, tag: str) -> None:
        self._in_style = False

    def handle_data(self, data: str) -> None:
        if self._in_style:
            self.references.extend(_css_references(data))


def _file_allowed(url: str, roots: Iterable[Path]) -> bool:
    path = Path(url2pathname(unquote(urlsplit(url).path))).resolve()
    return any(path == root or root in path.parents for root in roots)


def reference_allowed(url: str, roots: Iterable[Path], base_url: str | None = None) -> bool:
    """True for data: URIs, fragments, and files inside the allowed folders."""
    url = url.strip()
    if not url or url.startswith("#"):
        return True
    scheme = urlsplit(url).scheme.lower()
    if scheme == "data":
        return True
    if scheme == "" and not url.startswith("//") and base_url:
        from urllib.parse import urljoin

        return reference_allowed(urljoin(base_url, url), roots)
    return scheme == "file" and _file_allowed(url, roots)


def refused_references(html: str, roots: Iterable[Path], base_url: str) -> list[str]:
    """The URLs a rendered page would load that lie outside the allowed folders."""
    collector = _ReferenceCollector()
    collector.feed(html)
    collector.close()
    roots = list(roots)
    return sorted({u for u in collector.references if not reference_allowed(u, roots, base_url)})


def check_references(html: str, roots: Iterable[Path], base_url: str, what: str) -> None:
    """Refuse a rendered page that would load anything from outside; nothing is fetched."""
    refused = refused_references(html, roots, base_url)
    if refused:
        shown = ", ".join(refused[:5]) + (
            f" and {len(refused) - 5} more" if len(refused) > 5 else ""
        )
        raise RenderError(
            f"{what} refers to {shown}. A letter may load only files from its template "
            "folders and data: URIs; nothing was fetched. Remove the reference from the "
            "template or the data."
        )


# --- glyphs: every character shows -----------------------------------------------------


@cache
def installed_coverage() -> tuple[tuple[int, ...], tuple[int, ...]]:
    """The code point ranges some installed font has glyphs for, from fontconfig.

    Returned as sorted, merged (starts, ends) so a lookup is one bisection;
    expanding the ranges into a set would cost a third of a second.
    """
    fc_list = shutil.which("fc-list")
    if fc_list is None:
        raise RenderError(
            "fc-list (fontconfig) is not installed, so glyph coverage cannot be checked. "
            "Install fontconfig (Debian: apt-get install fontconfig) or pass "
            "--allow-missing-glyphs."
        )
    result = subprocess.run(  # noqa: S603 - fixed arguments, no shell
        [fc_list, "--format", "%{charset}\n"], capture_output=True, text=True, check=False
    )
    ranges: list[tuple[int, int]] = []
    # Fonts of one family repeat the same ranges: parsing each distinct one once is 30x faster.
    for part in set(result.stdout.split()):
        start, _, end = part.partition("-")
        try:
            ranges.append((int(start, 16), int(end or start, 16)))
        except ValueError:
            continue  # an unreadable range covers nothing we can count on
    merged: list[list[int]] = []
    for low, high in sorted(ranges):
        if merged and low <= merged[-1][1] + 1:
            merged[-1][1] = max(merged[-1][1], high)
        else:
            merged.append([low, high])
    return tuple(r[0] for r in merged), tuple(r[1] for r in merged)


def is_covered(char: str) -> bool:
    """True when some installed font has a glyph for this character."""
    starts, ends = installed_coverage()
    index = bisect_right(starts, ord(char)) - 1
    return index >= 0 and ord(char) <= ends[index]


def _needs_glyph(char: str) -> bool:
    # Spaces, controls and format characters (ZWJ, ZWNJ) are not drawn; private-use
    # and unassigned code points are, and no standard font has them.
    category = unicodedata.category(char)
    return category[0] != "Z" and category not in ("Cc", "Cf")


def missing_glyphs(texts: Mapping[str, str]) -> dict[str, list[str]]:
    """For each labelled text, the characters no installed font can draw (in order)."""
    missing: dict[str, list[str]] = {}
    # Almost always every character is covered: look at each distinct one once, and
    # go text by text only to name the texts when something is missing.
    distinct = set("".join(texts.values()))
    if not any(_needs_glyph(c) and not is_covered(c) for c in distinct):
        return missing
    for label, text in texts.items():
        chars = sorted(
            {c for c in set(text) if _needs_glyph(c) and not is_covered(c)}, key=text.index
        )
        if chars:
            missing[label] = chars
    return missing


def describe_missing(missing: Mapping[str, list[str]]) -> list[str]:
    """One line per text with missing glyphs, naming each character."""
    from coalitionletter.names import character_label

    return [
        f"{label}: no installed font has {', '.join(character_label(c) for c in chars)}"
        for label, chars in missing.items()
    ]


# --- PDF ----------------------------------------------------------------------------------


def _restricted_fetcher(roots: list[Path]) -> Any:
    """A WeasyPrint URLFetcher that serves only data: URIs and files under `roots`."""
    from weasyprint.urls import URLFetcher

    class RestrictedURLFetcher(URLFetcher):
        """Refuses http(s), ftp and any file outside the template folders."""

        def __init__(self) -> None:
            super().__init__(allowed_protocols=("data", "file"), allow_redirects=False)
            self.refused: list[str] = []

        def fetch(self, url: str, headers: Any = None) -> Any:
            scheme = urlsplit(url).scheme.lower()
            if scheme == "data" or (scheme == "file" and _file_allowed(url, roots)):
                return super().fetch(url, headers)
            self.refused.append(url)
            raise ValueError(f"refused to load {url}: outside the letter's template folders")

    return RestrictedURLFetcher()


# Letters are PDF/UA-1 (ISO 14289-1): tagged (a structure tree from the HTML's
# headings, lists and paragraphs), marked, with the language and the title shown
# as the window title, and XMP metadata saying pdfuaid:part=1. WeasyPrint writes
# all of that for this variant; it does not validate the result.
LETTER_PDF_VARIANT = "pdf/ua-1"


# An element whose id is "lang-<tag>" (one per language version of a bilingual
# letter, each beginning on a new page) starts the pages in that language.
LANGUAGE_ANCHOR = "lang-"


def _tag_languages(document: Any, pdf: Any) -> None:
    """A WeasyPrint finisher: give each page's tagged content the language of its version.

    WeasyPrint 70 writes only the document's own language (the catalog's /Lang); a
    reader of a bilingual letter must hear the French version read as French, so each
    top-level structure element takes the /Lang of the version its page belongs to.
    """
    import pydyf

    language = None
    page_languages = []
    for page in document.pages:
        starts = sorted(a for a in page.anchors if a.startswith(LANGUAGE_ANCHOR))
        language = starts[0][len(LANGUAGE_ANCHOR) :] if starts else language
        page_languages.append(language)
    if not any(page_languages):
        return
    of_page = dict(zip(pdf.page_references, page_languages, strict=True))
    for element in pdf.objects:
        if isinstance(element, dict) and element.get("S") == "/Document":
            for reference in element["K"]:
                child = pdf.objects[int(reference.split()[0])]
                tag = of_page.get(child.get("Pg"))
                if tag:
                    child["Lang"] = pydyf.String(tag)


def write_pdf(
    html: str,
    *,
    base_url: str,
    roots: list[Path],
    what: str,
    references_checked: bool = False,
    pdf_variant: str | None = None,
) -> bytes:
    """Render one HTML page to PDF bytes, loading nothing from outside `roots`.

    `references_checked` skips the up-front scan when the caller has just run
    `check_references` on this very HTML; the restricted fetcher guards either way.
    `pdf_variant` is a WeasyPrint variant such as LETTER_PDF_VARIANT. Parts in another
    language (from an element with id "lang-<tag>") are tagged with it. Every PDF has
    a document ID (the trailer's /ID): a hash of its content, so that a rebuild of
    the same letter gives the same bytes.
    """
    if not base_url.startswith("file:"):
        raise RenderError("A PDF is rendered only with a file: base URL inside the templates.")
    if not references_checked:
        check_references(html, roots, base_url, what)
    import weasyprint

    fetcher = _restricted_fetcher(roots)
    document = weasyprint.HTML(string=html, base_url=base_url, url_fetcher=fetcher)
    pdf = document.write_pdf(
        custom_metadata=True,
        pdf_identifier=True,
        pdf_variant=pdf_variant,
        finisher=_tag_languages,
    )
    if fetcher.refused:
        raise RenderError(
            f"{what} asked for {', '.join(sorted(set(fetcher.refused)))}, outside the "
            "letter's template folders; nothing was fetched and no PDF was written."
        )
    return pdf
