"""Short names people write for a division, computed from its official name.

广东省 → 广东, 内蒙古自治区 → 内蒙古, 广西壮族自治区 → 广西, 深圳市 → 深圳,
大理白族自治州 → 大理, 黔东南苗族侗族自治州 → 黔东南, 伊犁哈萨克自治州 → 伊犁,
浦东新区 → 浦东, 峨边彝族自治县 → 峨边. A short name of one character (城区 → 城) is
no name at all: none is given. The only table here is the list of China's 56 ethnic
groups (GB/T 3304), which autonomous divisions carry in their names.
"""

from __future__ import annotations

import unicodedata

# Longest first, so 自治州 is tried before 州 would be (there is no 州 suffix) and 新区 before 区.
SUFFIXES = ("特别行政区", "自治区", "自治州", "自治县", "自治旗", "新区", "林区", "特区", "地区",
            "省", "市", "区", "县", "盟", "旗")
ETHNIC_GROUPS = (
    "汉", "蒙古", "回", "藏", "维吾尔", "苗", "彝", "壮", "布依", "朝鲜", "满", "侗", "瑶", "白",
    "土家", "哈尼", "哈萨克", "傣", "黎", "傈僳", "佤", "畲", "高山", "拉祜", "水", "东乡", "纳西",
    "景颇", "柯尔克孜", "土", "达斡尔", "仫佬", "羌", "布朗", "撒拉", "毛南", "仡佬", "锡伯",
    "阿昌", "普米", "塔吉克", "怒", "乌孜别克", "俄罗斯", "鄂温克", "德昂", "保安", "裕固", "京",
    "塔塔尔", "独龙", "鄂伦春", "赫哲", "门巴", "珞巴", "基诺",
)
_ETHNIC = sorted([g + "族" for g in ETHNIC_GROUPS] + ["各族"] + list(ETHNIC_GROUPS),
                 key=len, reverse=True)


def clean_text(text: str) -> str:
    """NFKC (full-width letters and digits), no spaces of any kind."""
    return "".join(unicodedata.normalize("NFKC", text or "").split())


def short_name(name: str) -> str:
    """The name without its level suffix and, for an autonomous division, without the
    ethnic groups it names; "" when that would leave fewer than two characters."""
    for suffix in SUFFIXES:
        if name.endswith(suffix) and len(name) - len(suffix) >= 2:
            base = name[: -len(suffix)]
            break
    else:
        return ""
    if suffix.startswith("自治"):
        base = _strip_groups(base).removesuffix("族")  # 鄂温克族自治旗 → 鄂温克
    return base if len(base) >= 2 else ""


def _strip_groups(base: str) -> str:
    """Ethnic groups off the end while two characters remain (长白朝鲜族 → 长白, and not
    on to 长: 白 is a group too)."""
    while True:
        for group in _ETHNIC:
            if base.endswith(group) and len(base) - len(group) >= 2:
                base = base[: -len(group)]
                break
        else:
            return base
