"""Names of the industry divisions (GB/T 4754-2017 门类 letter + two-digit 大类 code) in both languages.

Only the divisions the sample and synthetic data use are listed; an unknown code is shown as
given. Tables and plots show ``C39 计算机、通信和其他电子设备制造业`` instead of a bare code.
"""

from __future__ import annotations

__all__ = ["INDUSTRY_NAMES", "industry_name"]

#: code → (Chinese name, English name), from GB/T 4754-2017 (国民经济行业分类).
INDUSTRY_NAMES: dict[str, tuple[str, str]] = {
    "C26": ("化学原料和化学制品制造业", "Chemical raw materials and products"),
    "C27": ("医药制造业", "Pharmaceuticals"),
    "C29": ("橡胶和塑料制品业", "Rubber and plastic products"),
    "C34": ("通用设备制造业", "General-purpose machinery"),
    "C35": ("专用设备制造业", "Special-purpose machinery"),
    "C36": ("汽车制造业", "Motor vehicles"),
    "C38": ("电气机械和器材制造业", "Electrical machinery and equipment"),
    "C39": ("计算机、通信和其他电子设备制造业", "Computers, communication and other electronics"),
    "C40": ("仪器仪表制造业", "Instruments and meters"),
    "F51": ("批发业", "Wholesale trade"),
    "I64": ("互联网和相关服务", "Internet and related services"),
    "I65": ("软件和信息技术服务业", "Software and information technology services"),
    "M73": ("研究和试验发展", "Research and experimental development"),
    "M74": ("专业技术服务业", "Professional technical services"),
    "M75": ("科技推广和应用服务业", "Technology promotion and application services"),
}


def industry_name(code: str, lang: str = "zh", *, with_code: bool = True) -> str:
    """``C39 计算机、通信和其他电子设备制造业`` (zh) or ``C39 Computers, …`` (en); unknown codes as given."""
    names = INDUSTRY_NAMES.get(str(code).strip().upper())
    if names is None:
        return str(code)
    name = names[0] if lang == "zh" else names[1]
    return f"{code} {name}" if with_code else name
