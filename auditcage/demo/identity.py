"""Synthetic identities: resident ID numbers, VINs, GA 36 plates, USCCs, names and phones.

Every value is made up. ID numbers carry a correct GB 11643 MOD 11-2 check digit and VINs a correct
ISO 3779 check digit, so that a validator accepts them; invalid ones are made on purpose by the
quarantine plants only.
"""

from __future__ import annotations

import functools
import random
from datetime import date, timedelta

from stdnum import exceptions as stdnum_errors
from stdnum.cn import ric
from stdnum.cn import uscc as _uscc

# GB 11643: weights 2^(17-i) mod 11, check characters indexed by the weighted sum mod 11.
_RIC_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_RIC_CHECK = "10X98765432"

# ISO 3779 transliteration and position weights (position 9 is the check digit).
_VIN_VALUES = {
    **{str(d): d for d in range(10)},
    **dict(zip("ABCDEFGH", range(1, 9), strict=True)),
    **dict(zip("JKLMN", range(1, 6), strict=True)),
    "P": 7,
    "R": 9,
    **dict(zip("STUVWXYZ", range(2, 10), strict=True)),
}
_VIN_WEIGHTS = (8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2)
VIN_CHARS = "ABCDEFGHJKLMNPRSTUVWXYZ0123456789"
_VIN_YEAR = "ABCDEFGHJKLMNPRSTVWXY123456789"  # model-year codes, 2010 = A

# GA 36: the serial part uses digits and letters except I and O.
PLATE_LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"
# Chinese WMIs (illustrative manufacturer codes).
WMIS = ("LSV", "LFV", "LGB", "LVS", "LHG", "LBV", "LSG", "LFP", "LGW", "LDC")

GUIZHOU_AREAS = ("520102", "520103", "520111", "520113", "520302", "520303", "520402", "520422")
OTHER_AREAS = ("440106", "510104", "430102", "420102", "530102", "450103")

_SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐"
    "许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁任沈姚卢龙"
)
_GIVEN = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰"
    "飞鹏辉建国红梅波宇浩然子涵欣怡思雨俊杰晨阳文博雪婷佳琪"
)
_PHONE_PREFIXES = ("130", "131", "133", "135", "136", "138", "139", "150", "151", "155", "158")
_PHONE_PREFIXES += ("159", "170", "177", "180", "181", "182", "185", "186", "187", "189", "199")


def ric_check(body17: str) -> str:
    """The GB 11643 check character for the first 17 digits."""
    total = sum(int(c) * w for c, w in zip(body17, _RIC_WEIGHTS, strict=True))
    return _RIC_CHECK[total % 11]


@functools.lru_cache(maxsize=4096)
def area_at_birth(area: str, year: int) -> str:
    """`area`, or its city: whichever GB/T 2260 knew in the year of birth."""
    for candidate in (area, area[:4] + "00", area[:2] + "0100"):
        body = f"{candidate}{year}0101001"
        try:
            ric.get_birth_place(body + ric_check(body))
        except (stdnum_errors.ValidationError, KeyError):  # KeyError: a code with no county
            continue
        return candidate
    return area


def resident_id(rng: random.Random, *, area: str, birth: date, sex: int | None = None) -> str:
    """An 18-character resident ID number; sex 1 = male (odd sequence), 0 = female."""
    area = area_at_birth(area, birth.year)
    seq = rng.randrange(0, 100)
    sex_digit = (
        rng.randrange(10)
        if sex is None
        else rng.choice((1, 3, 5, 7, 9) if sex else (0, 2, 4, 6, 8))
    )
    body = f"{area}{birth:%Y%m%d}{seq:02d}{sex_digit}"
    return body + ric_check(body)


def birth_date(rng: random.Random, *, min_age: int, max_age: int, on: date) -> date:
    return on - timedelta(days=rng.randrange(min_age * 365 + 10, max_age * 365))


def vin_check(vin17: str) -> str:
    total = sum(_VIN_VALUES[c] * w for c, w in zip(vin17, _VIN_WEIGHTS, strict=True))
    remainder = total % 11
    return "X" if remainder == 10 else str(remainder)


def vin(rng: random.Random, *, model_year: int = 2020) -> str:
    """A 17-character VIN with a correct check digit at position 9."""
    wmi = rng.choice(WMIS)
    vds = "".join(rng.choice(VIN_CHARS) for _ in range(5))
    year = _VIN_YEAR[(model_year - 2010) % len(_VIN_YEAR)]
    plant = rng.choice(VIN_CHARS)
    serial = f"{rng.randrange(1_000_000):06d}"
    draft = f"{wmi}{vds}0{year}{plant}{serial}"
    return draft[:8] + vin_check(draft) + draft[9:]


def plate(
    rng: random.Random, *, province: str = "黔", city: str = "A", new_energy: bool = False
) -> str:
    """A GA 36 plate: 黔A12345, 黔AB1234, or an 8-character new-energy plate 黔AD12345."""
    if new_energy:
        return f"{province}{city}{rng.choice('DF')}{rng.randrange(100000):05d}"
    if rng.random() < 0.6:
        serial = f"{rng.randrange(100000):05d}"
    else:
        pos = rng.randrange(2)
        digits = f"{rng.randrange(10000):04d}"
        letter = rng.choice(PLATE_LETTERS)
        serial = letter + digits if pos == 0 else digits[:1] + letter + digits[1:]
    return f"{province}{city}{serial}"


def uscc(rng: random.Random, *, area: str = "520100") -> str:
    """A unified social credit code (统一社会信用代码) with its check character."""
    chars = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    body = "91" + area + "".join(rng.choice(chars) for _ in range(9))
    return body + _uscc.calc_check_digit(body)


def name(rng: random.Random) -> str:
    given = rng.choice(_GIVEN) + (rng.choice(_GIVEN) if rng.random() < 0.7 else "")
    return rng.choice(_SURNAMES) + given


def phone(rng: random.Random) -> str:
    return rng.choice(_PHONE_PREFIXES) + f"{rng.randrange(100_000_000):08d}"


def hexstr(rng: random.Random, bits: int) -> str:
    return rng.getrandbits(bits).to_bytes(bits // 8, "big").hex()
