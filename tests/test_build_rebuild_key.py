"""An unchanged-looking rebuild never skips a real change: its key covers all that prints."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from fixtures_letters import LEAD_NAME, SIGNED

FOUNDING = "ilp-magnitsky-2020"
EDITABLE = [name for name in SIGNED if name != LEAD_NAME]


def built_files(folder: Path) -> dict[str, bytes]:
    """Every letter and list file in an output folder, by name (the manifest left out)."""
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if not p.name.startswith(".")}


def build(invoke, out: Path, *extra: str) -> str:
    result = invoke("build", "--format", "html", "-q", "--out", str(out), *extra)
    assert result.exit_code == 0, result.output
    return result.output


def assert_same_as_forced(invoke, home: Path) -> None:
    """A build without --force writes what a forced build from scratch writes."""
    incremental, forced = home / "incremental", home / "forced"
    build(invoke, incremental)
    build(invoke, forced, "--force")
    assert built_files(incremental) == built_files(forced)


def org_ref(invoke, name: str) -> str:
    result = invoke("org", "list", "--search", name, "--format", "json")
    assert result.exit_code == 0, result.output
    return str(next(o["slug"] for o in json.loads(result.output) if o["name"] == name))


def test_a_changed_sort_name_alone_is_rebuilt(invoke, signed_founding, founding_home):
    ref = org_ref(invoke, "Free Tibet Example")
    assert invoke("org", "edit", ref, "--sort-name", "Zzz").exit_code == 0
    build(invoke, founding_home / "incremental")
    assert invoke("org", "edit", ref, "--sort-name", "").exit_code == 0

    output = build(invoke, founding_home / "incremental")

    assert "Nothing changed" not in output
    assert_same_as_forced(invoke, founding_home)


def test_an_untouched_registry_is_not_rebuilt(invoke, signed_founding, founding_home):
    build(invoke, founding_home / "incremental")
    # positive control for the test above: the same command does skip when nothing changed
    assert (
        "Nothing changed"
        in invoke("build", "--format", "html", "--out", str(founding_home / "incremental")).output
    )


def test_renaming_recomputes_a_default_sort_name(invoke, signed_founding, founding_home):
    ref = org_ref(invoke, "The Uyghur Rights Practice")
    assert invoke("org", "edit", ref, "--name", "The Zhejiang Rights Practice").exit_code == 0
    shown = invoke("org", "show", ref, "--format", "json")
    assert '"sort_name": "Zhejiang Rights Practice"' in shown.output


def test_renaming_keeps_a_sort_name_set_by_hand(invoke, signed_founding, founding_home):
    ref = org_ref(invoke, "The Uyghur Rights Practice")
    assert invoke("org", "edit", ref, "--sort-name", "Rights Practice, Uyghur").exit_code == 0
    assert invoke("org", "edit", ref, "--name", "The Zhejiang Rights Practice").exit_code == 0
    shown = invoke("org", "show", ref, "--format", "json")
    assert '"sort_name": "Rights Practice, Uyghur"' in shown.output


EDITS = st.one_of(
    st.tuples(st.just("--name"), st.sampled_from(["Zeta Group", "Alpha Group", "Mu Group"])),
    st.tuples(st.just("--sort-name"), st.sampled_from(["", "Aaa", "Zzz"])),
    st.tuples(st.just("--country"), st.sampled_from(["GB", "CA", "FR", ""])),
    st.tuples(st.just("--type"), st.sampled_from(["NGO", "diaspora group", ""])),
    st.tuples(st.just("--website"), st.sampled_from(["a.example", ""])),
)


@pytest.mark.slow
@hypothesis_settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(target=st.integers(0, len(EDITABLE) - 1), edit=EDITS)
def test_any_registry_edit_rebuilds_to_the_forced_bytes(
    invoke, signed_founding, founding_home, target, edit
):
    listed = invoke("org", "list", "--format", "json")
    slugs = sorted(o["slug"] for o in json.loads(listed.output) if o["name"] != LEAD_NAME)
    option, value = edit
    result = invoke("org", "edit", slugs[target], option, value)
    if result.exit_code != 0:
        assert "already" in result.output  # a rename onto another's name is refused
    assert_same_as_forced(invoke, founding_home)


# Edits to the letter's other language version (body, title, closing), a recipient's
# languages and its translated address, and how the versions are filed. (An edit to the
# English text would make the signed list stale and stop the build.)
LANGUAGE_EDITS = st.sampled_from(
    [
        ("body.fr.md", "", "Une phrase de plus.\n"),
        ("letter.toml", 'title = "Sanctions coordonnées', 'title = "Des sanctions coordonnées'),
        ("letter.toml", 'closing = "Veuillez agréer', "closing = \"Je vous prie d'agréer"),
        ("letter.toml", 'bilingual = "one-pdf"', 'bilingual = "separate"'),
        ("letter.toml", 'bilingual = "separate"', 'bilingual = "one-pdf"'),
        ("letter.toml", '"Monsieur le Ministre,"', '"Madame la Ministre,"'),
        ("letter.toml", 'languages = ["en", "fr"]', 'languages = ["fr", "en"]'),
        ("letter.toml", 'languages = ["fr", "en"]', 'languages = ["fr"]'),
    ]
)


def edit_campaign(home: Path, name: str, old: str, new: str) -> None:
    """Append `new` to a body file (old == ""), or replace `old` when the file holds it."""
    path = home / "letters" / FOUNDING / name
    text = path.read_text("utf-8")
    path.write_text(text + "\n" + new if not old else text.replace(old, new), "utf-8")


@pytest.mark.slow
@hypothesis_settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(edits=st.lists(LANGUAGE_EDITS, min_size=1, max_size=2))
def test_any_edit_to_a_language_version_rebuilds_to_the_forced_bytes(
    invoke, signed_founding, founding_home, edits
):
    build(invoke, founding_home / "incremental")
    for edit in edits:
        edit_campaign(founding_home, *edit)
    assert_same_as_forced(invoke, founding_home)


def test_a_changed_french_body_alone_is_rebuilt(invoke, signed_founding, founding_home):
    build(invoke, founding_home / "incremental")
    edit_campaign(founding_home, "body.fr.md", "", "Une phrase de plus.\n")

    output = build(invoke, founding_home / "incremental")

    assert "Nothing changed" not in output
    canada = (founding_home / "incremental" / "canada.html").read_text("utf-8")
    assert "Une phrase de plus." in canada
    assert_same_as_forced(invoke, founding_home)


def test_publishing_a_french_text_the_files_already_held_rebuilds(
    invoke, signed_founding, founding_home
):
    assert invoke("publish", FOUNDING).exit_code == 0
    edit_campaign(founding_home, "body.fr.md", "", "Une phrase publiée plus tard.\n")
    build(invoke, founding_home / "incremental")  # prints the published text: not this one
    assert invoke("publish", FOUNDING).exit_code == 0  # the files do not change

    build(invoke, founding_home / "incremental")

    canada = (founding_home / "incremental" / "canada.html").read_text("utf-8")
    assert "Une phrase publiée plus tard." in canada
