"""Names read the way pypinyin reads them, surnames the way people say them: the word-cached
reading is pypinyin's own for any text, and known surnames keep their surname reading."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from pypinyin import lazy_pinyin

from kehu.customers.pinyin import name_pinyin

# Common and polyphonic characters (银行 hang, 重庆 chong, 长沙 chang, 音乐 yue), letters, digits
# and punctuation, as names in sheets mix them.
ALPHABET = "北京上海重庆长沙银行音乐科技有限公司集团曾单解区仇朴查行长重乐中国移动华为" \
           "ABCxyz019（）()·-& 　"


def _plain(text: str) -> tuple[str, str]:
    syllables = lazy_pinyin(text, errors=lambda chars: list(chars))
    full = "".join(ch for ch in "".join(syllables).lower() if ch.isalnum())
    initials = "".join(s[0] for s in syllables if s and s[0].isalnum())
    return full, "".join(ch for ch in initials.lower() if ch.isalnum())


@settings(max_examples=400)
@given(st.text(alphabet=ALPHABET, max_size=24))
def test_a_company_name_reads_as_pypinyin_reads_it(name):
    assert name_pinyin(name) == _plain(name)


def test_phrases_keep_their_reading_and_surnames_theirs():
    assert name_pinyin("重庆银行股份有限公司") == ("chongqingyinhanggufenyouxiangongsi", "cqyhgfyxgs")
    assert name_pinyin("长沙音乐厅") == ("changshayinyueting", "csyyt")
    assert name_pinyin("曾小贤", is_person=True) == ("zengxiaoxian", "zxx")
    assert name_pinyin("单田芳", is_person=True)[0] == "shantianfang"
