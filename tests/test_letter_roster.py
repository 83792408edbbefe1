"""Who a letter names, and in what order."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from coalitionletter.campaigns import catalogue as campaigns
from coalitionletter.campaigns import roster
from coalitionletter.errors import CampaignError, StaleConsentError
from coalitionletter.models import Event
from fixtures_letters import CHINESE_NAME, LEAD_NAME, UYGHUR_NAME, Org, add_organisation


def _roster(database, definition, **kwargs):
    with database.reading() as session:
        return roster.read_roster(session, definition, locale="en-GB", **kwargs)


def test_only_confirmed_organisations_are_named(database, founding, add_signatories):
    add_signatories(founding, ["Amnesty Example", "Bravo Rights"])
    with database.writing() as session:
        add_organisation(session, Org("Never Asked"))
    names = [s.name for s in _roster(database, founding).signatories]
    assert names == ["Amnesty Example", "Bravo Rights"]


def test_names_sort_by_collation_with_the_lead_first(database, founding, add_signatories):
    add_signatories(
        founding,
        ["Zeta Watch", UYGHUR_NAME, "Émigrés Solidarity", CHINESE_NAME, "Eagle Trust", LEAD_NAME],
    )
    names = [s.name for s in _roster(database, founding).signatories]
    assert names == [
        LEAD_NAME,
        CHINESE_NAME,
        "Eagle Trust",
        "Émigrés Solidarity",
        "Zeta Watch",
        UYGHUR_NAME,
    ]


def test_a_leading_article_does_not_decide_the_place(database, founding, add_signatories):
    add_signatories(founding, ["The Zebra Fund", "Alpha Aid"])
    names = [s.name for s in _roster(database, founding).signatories]
    assert names == ["Alpha Aid", "The Zebra Fund"]


def test_a_display_name_correction_is_printed(database, founding, add_signatories):
    add_signatories(founding, [Org("Uyghur Hjelp", display_name="Uyghur Hjelp (Norway)")])
    assert [s.name for s in _roster(database, founding).signatories] == ["Uyghur Hjelp (Norway)"]


def test_stale_consent_is_refused_naming_the_organisations(database, founding, add_signatories):
    add_signatories(founding, ["Current Rights"])
    add_signatories(founding, ["Old Text Org"], text_hash="0" * 64)
    with database.reading() as session:
        events_before = session.scalar(select(func.count()).select_from(Event))
    with pytest.raises(StaleConsentError, match="earlier text") as caught:
        _roster(database, founding)
    assert caught.value.names == ["Old Text Org"]
    assert "Old Text Org" in str(caught.value) and "--allow-stale" in str(caught.value)
    with database.reading() as session:
        assert session.scalar(select(func.count()).select_from(Event)) == events_before


def test_allow_stale_lists_them_and_says_so(database, founding, add_signatories):
    add_signatories(founding, ["Current Rights"])
    add_signatories(founding, ["Old Text Org"], text_hash="0" * 64)
    result = _roster(database, founding, allow_stale=True)
    assert [s.name for s in result.signatories] == ["Current Rights", "Old Text Org"]
    assert result.includes_stale and [s.name for s in result.stale] == ["Old Text Org"]


def test_public_copies_name_only_public_signatories(database, founding, add_signatories):
    add_signatories(founding, ["Open Org", Org("Hidden Org", listing="governments_only")])
    result = _roster(database, founding)
    assert [s.name for s in result.named(delivered=True)] == ["Hidden Org", "Open Org"]
    assert [s.name for s in result.named(delivered=False)] == ["Open Org"]
    assert result.withheld_count(delivered=False) == 1
    assert result.count == 2


def test_grouping_by_country_heads_each_group(database, founding_home, settings, add_signatories):
    toml = (founding_home / "letters/ilp-magnitsky-2020/letter.toml").read_text("utf-8")
    (founding_home / "letters/ilp-magnitsky-2020/letter.toml").write_text(
        toml.replace('group_by = "none"', 'group_by = "country"'), "utf-8"
    )
    definition = campaigns.load(settings, "ilp-magnitsky-2020")
    with database.writing() as session:
        campaigns.sync(session, definition)
    add_signatories(
        definition,
        [
            Org(LEAD_NAME, country="US"),
            Org("Oslo Group", country="NO"),
            Org("Bergen", country="NO"),
        ],
    )
    groups = _roster(database, definition).groups(delivered=True)
    assert [(g.heading, [s.name for s in g.signatories]) for g in groups] == [
        (None, [LEAD_NAME]),
        ("Norway", ["Bergen", "Oslo Group"]),
    ]


def test_the_lead_sorts_with_the_others_when_the_campaign_says_so(
    database, founding_home, settings, add_signatories
):
    toml = founding_home / "letters/ilp-magnitsky-2020/letter.toml"
    toml.write_text(
        toml.read_text("utf-8").replace("list_first = true", "list_first = false"), "utf-8"
    )
    definition = campaigns.load(settings, "ilp-magnitsky-2020")
    with database.writing() as session:
        campaigns.sync(session, definition)
    add_signatories(definition, ["Zeta Watch", "International Lawyers Project (ILP)", "Alpha Aid"])
    names = [s.name for s in _roster(database, definition).signatories]
    assert names == ["Alpha Aid", "International Lawyers Project (ILP)", "Zeta Watch"]


def test_the_lead_is_recognised_by_its_name_with_its_short_name(
    database, founding, add_signatories
):
    add_signatories(founding, ["Alpha Aid", "International Lawyers Project (ILP)"])
    result = _roster(database, founding)
    assert result.signatories[0].name == "International Lawyers Project (ILP)"
    assert result.lead_listed()


def test_a_campaign_not_in_the_database_says_to_run_init(database, founding_home, settings):
    definition = campaigns.load(settings, "ilp-magnitsky-2020")
    with database.reading() as session:
        events_before = session.scalar(select(func.count()).select_from(Event))
        with pytest.raises(CampaignError, match="not in the database yet") as caught:
            roster.read_roster(session, definition)
    assert "coalitionletter init" in str(caught.value)
    with database.reading() as session:
        assert session.scalar(select(func.count()).select_from(Event)) == events_before


def test_a_campaign_nobody_has_confirmed_names_nobody(database, founding, add_signatories):
    with database.writing() as session:
        add_organisation(session, Org("Only Invited Later"))
    result = _roster(database, founding)
    assert result.signatories == () and result.count == 0 and not result.lead_listed()


def test_the_time_of_each_confirmation_is_read_back_in_utc(database, founding, add_signatories):
    add_signatories(founding, ["Timely Rights"])
    (signatory,) = _roster(database, founding).signatories
    assert signatory.confirmed_at is not None
    assert signatory.confirmed_at.utcoffset() == timedelta(0)


def test_a_display_name_correction_to_the_lead_s_name_puts_it_first(
    database, founding, add_signatories
):
    add_signatories(founding, ["Alpha Aid", Org("ILP (registry spelling)", display_name=LEAD_NAME)])
    result = _roster(database, founding)
    assert [s.name for s in result.signatories] == [LEAD_NAME, "Alpha Aid"]
    assert result.signatories[0].is_lead
