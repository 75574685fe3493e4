"""Rule message templates: placeholders filled from the hit, the rest left as written."""

import pytest

from csqa.ruleset import format_message


@pytest.mark.parametrize(
    ("template", "values", "expected"),
    [
        ("坐席说“{matched}”", {"matched": "你们"}, "坐席说“你们”"),
        ("{detail}(规范)", {"detail": "没有告知工单编号", "matched": ""}, "没有告知工单编号(规范)"),
        ("每分钟 {per_minute:.1f} 次", {"per_minute": 3.456}, "每分钟 3.5 次"),
        ("{count:.1f} 次", {"count": "三"}, "三 次"),  # a spec the value cannot take: as str
        ("{unknown} 与 {matched}", {"matched": "x"}, "{unknown} 与 x"),  # unknown: as written
        ("{unknown!r:>4}", {}, "{unknown!r:>4}"),
        ("坐席说“{matched", {"matched": "x"}, "坐席说“{matched"),  # does not parse: as written
        ("a }} b {{", {}, "a } b {"),
        ("", {"matched": "x"}, ""),
    ],
)
def test_format_message(template: str, values: dict[str, object], expected: str) -> None:
    assert format_message(template, values) == expected
    assert format_message(template, values) == expected  # the parsed template is kept: same again
