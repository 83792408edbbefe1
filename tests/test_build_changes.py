"""What a build would change since the last one, and the letter's preview (build/changes.py)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from coalitionletter.build import letters as builder
from coalitionletter.build.changes import INPUT_WORDS, changes
from coalitionletter.campaigns.definition import CampaignDefinition
from coalitionletter.db import Database
from coalitionletter.errors import CampaignError
from coalitionletter.settings import Settings
from fixtures_letters import LEAD_NAME, UYGHUR_NAME

FOUNDING = "ilp-magnitsky-2020"
OPTIONS = builder.BuildOptions(formats=("html",), today=date(2020, 8, 18), jobs=1)


def _plan(settings: Settings, database: Database) -> builder.Plan:
    return builder.plan_campaign(settings, database, FOUNDING, OPTIONS)


def _build(invoke) -> None:
    result = invoke("build", FOUNDING, "--format", "html", "-q")
    assert result.exit_code == 0, result.output


def test_before_any_build_everything_is_due_and_nothing_is_known_of_a_last_build(
    settings, database, signed_founding: CampaignDefinition
) -> None:
    found = changes(_plan(settings, database))
    assert not found.built_before
    assert not found.nothing_changed
    assert "uk.html" in found.files_due
    assert (found.added, found.removed) == ((), ())


def test_right_after_a_build_nothing_changed(
    settings, database, signed_founding: CampaignDefinition, invoke
) -> None:
    _build(invoke)
    found = changes(_plan(settings, database))
    assert found.nothing_changed
    assert found.inputs_known and found.names_known
    assert (found.changed_inputs, found.files_due, found.added, found.removed) == ((), (), (), ())


def test_a_new_signatory_is_named_as_added_and_the_signatories_as_the_changed_input(
    settings, database, signed_founding: CampaignDefinition, add_signatories, invoke
) -> None:
    _build(invoke)
    add_signatories(signed_founding, ["Newly Confirmed Rights Group"])
    found = changes(_plan(settings, database))
    assert not found.nothing_changed
    assert found.added == ("Newly Confirmed Rights Group",)
    assert found.removed == ()
    assert found.changed_inputs == (INPUT_WORDS["signatories"],)
    assert "uk.html" in found.files_due


def test_a_withdrawn_signatory_is_named_as_removed(
    settings, database, founding: CampaignDefinition, add_signatories, invoke
) -> None:
    from coalitionletter.campaigns import catalogue
    from coalitionletter.signon import states

    add_signatories(founding, [LEAD_NAME])
    (leaving,) = add_signatories(founding, ["Leaving Soon Association"])
    _build(invoke)
    with database.writing() as session:
        campaign = catalogue.campaign_row(session, FOUNDING)
        states.transition(session, campaign, leaving, "withdraw", actor="test")
    found = changes(_plan(settings, database))
    assert found.removed == ("Leaving Soon Association",)
    assert found.added == ()


def test_a_new_stylesheet_is_named_as_the_changed_input(
    settings, database, signed_founding: CampaignDefinition, invoke
) -> None:
    from coalitionletter.render import packaged_templates_dir

    _build(invoke)
    static = settings.templates_dir / "static"
    static.mkdir(parents=True)
    css = (packaged_templates_dir() / "static" / "letter.css").read_text("utf-8")
    (static / "letter.css").write_text(css + "\n.subject { letter-spacing: 0.01em; }\n", "utf-8")
    found = changes(_plan(settings, database))
    assert found.changed_inputs == (INPUT_WORDS["templates"],)
    assert (found.added, found.removed) == ((), ())


def test_every_preview_is_the_html_the_build_writes(
    settings, database, signed_founding: CampaignDefinition, founding_home: Path, invoke
) -> None:
    plan = _plan(settings, database)
    names = [o.name for o in plan.outputs if o.kind == "html"]
    previews = {name: builder.preview_html(plan, name) for name in names}
    _build(invoke)
    out = founding_home / "letters" / FOUNDING / "out"
    assert "uk.html" in previews
    for name, html in previews.items():
        assert html == (out / name).read_text("utf-8"), name
    assert UYGHUR_NAME in previews["uk.html"] and "Free Tibet Example" in previews["uk.html"]


def test_a_letter_the_build_does_not_write_has_no_preview(
    settings, database, signed_founding: CampaignDefinition
) -> None:
    plan = _plan(settings, database)
    with pytest.raises(CampaignError, match=r"writes no letter 'nowhere\.html'"):
        builder.preview_html(plan, "nowhere.html")
