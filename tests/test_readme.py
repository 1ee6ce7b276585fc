"""The README's prose quotes no number that the report did not compute."""

import json
import re

from lib.paths import ROOT

NUMBER = re.compile(r"(?<![\w.])\d+\.\d+(?![\w.])")


def _report_text() -> str:
    parts = [p.read_text() for p in (ROOT / "results").glob("*.json")]
    for nb in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"):
        for cell in json.loads(nb.read_text())["cells"]:
            for out in cell.get("outputs", []):
                parts.append("".join(out.get("text", "")) + "".join(out.get("data", {}).get("text/plain", "")))
                parts.append("".join(out.get("data", {}).get("text/html", "")))
    return "\n".join(parts)


def test_decimal_numbers_in_the_readme_findings_come_from_the_report():
    text = (ROOT / "README.md").read_text()
    section = re.search(r"^## What the report finds\n(.*?)(?=^## )", text, flags=re.S | re.M)
    assert section, "the README has no '## What the report finds' section"
    prose = re.sub(r"<!-- findings:start -->.*?<!-- findings:end -->", "", section.group(1), flags=re.S)
    prose = re.sub(r"```.*?```", "", prose, flags=re.S)  # commands, not findings
    prose = re.sub(r"`[^`]*`", "", prose)  # inline code: versions, flags, file names
    report = _report_text()
    missing = sorted({n for n in NUMBER.findall(prose) if n not in report})
    assert not missing, f"README quotes numbers that no results file or notebook output contains: {missing}"
