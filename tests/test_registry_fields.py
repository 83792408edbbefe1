"""Field checks take fast paths for everyday values; each gives exactly the slow path's answer."""

import re

import pytest
from email_validator import EmailNotValidError, validate_email
from hypothesis import example, given, settings
from hypothesis import strategies as st

from coalitionletter import names
from coalitionletter.errors import RegistryError
from coalitionletter.registry import fields as registry_fields

ASCII = st.text(st.characters(max_codepoint=127), max_size=30)
# Characters an address is made of, and the ones that trip validators up.
LOCAL = st.lists(st.sampled_from([*"ab0._+-"]), min_size=1, max_size=6).map("".join)
LABEL = st.lists(
    st.sampled_from(["a", "b", "0", "-", "xn--", "test", "local", "org"]), min_size=1, max_size=4
).map("".join)
DOMAIN = st.lists(LABEL, min_size=1, max_size=3).map(".".join)
EMAILISH = st.builds(lambda local, domain: f"{local}@{domain}", LOCAL, DOMAIN)


def _accepted_by_email_validator(text: str) -> bool:
    try:
        validate_email(text, check_deliverability=False)
    except EmailNotValidError:
        return False
    return True


@settings(max_examples=1000, deadline=None)
@given(EMAILISH)
def test_every_address_the_fast_path_accepts_email_validator_accepts(text: str) -> None:
    if registry_fields._plainly_valid_email(text):
        assert _accepted_by_email_validator(text)


# The fast path's first pattern, with a lookaround at every character: the spec it keeps.
LOOKAROUND_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9]|-(?!-)){0,61}(?<!-)"
LOOKAROUND_EMAIL = re.compile(
    rf"([A-Za-z0-9_+-]+(?:\.[A-Za-z0-9_+-]+)*)@((?:{LOOKAROUND_LABEL}\.)+[A-Za-z]{{1,63}})\Z"
)


@settings(max_examples=1000, deadline=None)
@given(
    st.one_of(
        EMAILISH, ASCII, st.sampled_from(["a@" + "b" * 62 + ".org", "a@" + "b" * 63 + ".org"])
    )
)
def test_the_email_pattern_without_lookarounds_accepts_what_the_lookaround_one_did(
    text: str,
) -> None:
    match = registry_fields.PLAIN_EMAIL.match(text)
    fast = match is not None and "--" not in match.group(2)
    assert fast == (LOOKAROUND_EMAIL.match(text) is not None)


def test_the_special_use_domains_written_out_are_email_validators() -> None:
    from email_validator import SPECIAL_USE_DOMAIN_NAMES

    assert frozenset(SPECIAL_USE_DOMAIN_NAMES) == registry_fields.SPECIAL_USE_DOMAINS


def test_every_special_use_domain_is_one_label_so_the_top_level_check_covers_it() -> None:
    assert all("." not in name for name in registry_fields.SPECIAL_USE_DOMAINS)


@pytest.mark.parametrize(
    "address",
    [
        "a@x.test",
        "a@b.123",
        "a..b@x.org",
        ".a@x.org",
        "a@-x.org",
        "a@x-.org",
        "a@x_y.org",
        "x@x.org.",
        "a@localhost",
        "a@xn--abc.org",
        "a@sub.onion",
        "a@x.Invalid",
        "a@b.arpa",
    ],
)
def test_an_address_email_validator_refuses_is_refused_with_its_reason(address: str) -> None:
    with pytest.raises(RegistryError, match="is not a valid address"):
        registry_fields.clean_email(address)


@pytest.mark.parametrize("address", ["Office@Example.ORG", "a+b@x.internal", "a@x.xn--p1ai"])
def test_an_address_email_validator_accepts_is_kept_as_given_with_a_folded_key(
    address: str,
) -> None:
    assert registry_fields.clean_email(address) == (address, address.casefold())


@settings(max_examples=500, deadline=None)
@given(ASCII)
def test_the_ascii_name_key_is_the_unicode_one(text: str) -> None:
    assert names.name_key(text) == names._folded(names.default_sort_name(text.strip()))


@settings(max_examples=500, deadline=None)
@given(st.one_of(ASCII, st.sampled_from(["The X", "the  y", "A b", "an", "An Z", "Tea", "a"])))
def test_the_ascii_sort_name_is_the_unicode_one(text: str) -> None:
    assert names.default_sort_name(text) == names._without_article(text)


@settings(max_examples=500, deadline=None)
@given(ASCII)
def test_the_ascii_slug_is_the_unicode_one(text: str) -> None:
    assert names._ascii_slug(text) == names._any_slug(text)


@settings(max_examples=500, deadline=None)
@given(st.text(max_size=12))
@example("Rights\u115f")  # a letter by category, refused as drawn as nothing
def test_a_printable_value_has_no_refused_character(text: str) -> None:
    slow = next(
        (
            (index + 1, char)
            for index, char in enumerate(text)
            if char not in names.ALLOWED_FORMAT
            and (
                names.unicodedata.category(char) in names.REFUSED_CATEGORIES
                or names.is_ignorable(char)  # drawn as nothing, whatever its category
            )
        ),
        None,
    )
    assert names.refused_character(text) == slow


def test_a_repeated_country_refused_once_is_refused_again() -> None:
    for _ in range(2):
        _cleaned, problems = registry_fields.clean_fields({"country": "Narnia"})
        assert [p.field for p in problems] == ["country"]


HOSTISH = st.lists(
    st.sampled_from(["a", "B0", "x-y", "-", "", "é", "u@h", "h:80", "[1]", "org"]),
    min_size=1,
    max_size=4,
).map(".".join)
RESTISH = st.lists(st.sampled_from(["/", "?", "#", "a", " ", "%", ":", "@", "é"]), max_size=6)
URLISH = st.builds(
    lambda scheme, host, rest: f"{scheme}{host}{''.join(rest)}",
    st.sampled_from(["", "http://", "HTTPS://", "https://", "ftp://"]),
    HOSTISH,
    RESTISH,
)


@settings(max_examples=1000, deadline=None)
@given(URLISH)
def test_the_plain_website_path_gives_what_urlsplit_gives(text: str) -> None:
    address = text if "://" in text else f"https://{text}"
    plain = registry_fields._plain_host_and_path(address)
    if plain is not None:
        assert registry_fields._host_and_path(address, text) == plain


def test_a_local_part_of_64_characters_is_kept() -> None:
    address = "a" * 64 + "@example.org"
    assert registry_fields.clean_email(address) == (address, address)


@pytest.mark.parametrize("local", ["a" * 65, "é" * 33, "first.last+" + "x" * 60])
def test_a_local_part_over_64_bytes_is_refused_saying_why(local: str) -> None:
    size = len(local.encode("utf-8"))
    with pytest.raises(RegistryError) as caught:
        registry_fields.clean_email(f"{local}@example.org")
    assert f"the part before the @ is {size} bytes long" in str(caught.value)
    assert "more than 64" in str(caught.value)


def test_org_add_refuses_a_local_part_over_64_and_adds_nothing(database, invoke) -> None:
    from fixtures_registry import snapshot

    before = snapshot(database)
    result = invoke("org", "add", "Long Mail", "--email", "a" * 65 + "@example.org")
    assert result.exit_code == 1, result.output
    assert "the part before the @ is 65 bytes long" in result.output
    assert snapshot(database) == before
