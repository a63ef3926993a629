"""A choice typed as its stored value or as its label in the reader's language; anything else
refused with the options in that language. The stored values are looked up first, without
asking for the language (an import asks for thousands of them)."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from kehu.core.cleaning import choice_cleaner
from kehu.customers.choices import Industry

clean = choice_cleaner(Industry)


@pytest.mark.parametrize(("language", "typed", "stored"), [
    ("zh-hans", "software", "software"),
    ("en", "software", "software"),
    ("zh-hans", "软件/IT", "software"),
    ("en", "Software/IT", "software"),
    ("zh-hans", "  制造业 ", "manufacturing"),
    ("en", "", ""),
])
def test_a_value_or_a_label_in_the_readers_language_is_taken(language, typed, stored):
    with translation.override(language):
        assert clean(typed) == stored


@pytest.mark.parametrize(("language", "typed", "said", "options"), [
    ("zh-hans", "Software/IT", "“Software/IT” 不是可选值", "软件/IT"),
    ("en", "软件/IT", "软件/IT", "Software/IT"),
    ("en", "spaceflight", "spaceflight", "Manufacturing"),
])
def test_anything_else_is_refused_with_the_options_in_the_readers_language(language, typed,
                                                                          said, options):
    with translation.override(language), pytest.raises(ValidationError) as refused:
        clean(typed)
    message = refused.value.messages[0]
    assert said in message and options in message
