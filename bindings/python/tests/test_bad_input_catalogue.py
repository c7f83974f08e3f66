"""The bad-input catalogue (tests/bad_input/engine_calls.json) through the Python package: every
case refused with its error class and code, and nothing a host can read changed."""

import json
from pathlib import Path
from typing import Any, Dict, List

import backorder
from backorder import Engine

CATALOGUE = Path(__file__).resolve().parents[3] / "tests" / "bad_input" / "engine_calls.json"


def _reads(engine: Engine, calls: List[Any]) -> List[str]:
    out: List[str] = []
    for op, args in calls:
        try:
            out.append(json.dumps(engine._call(op, **args), sort_keys=True, default=str))
        except backorder.BackorderError as e:
            out.append(f"{op}: {e.code}")
    return out


def test_every_case_is_refused_with_its_code_and_changes_nothing() -> None:
    cat: Dict[str, Any] = json.loads(CATALOGUE.read_text(encoding="utf-8"))
    engine = Engine.open_simulated(backorder._time(cat["start"]))
    for op, args in cat["setup"]:
        engine._call(op, **args)
    failures: List[str] = []
    for case in cat["cases"]:
        before = _reads(engine, cat["snapshot"])
        try:
            engine._call(case["op"], **case["args"])
            failures.append(f"{case['id']}: accepted")
        except backorder.BackorderError as e:
            if e.code != case["code"]:
                failures.append(f"{case['id']}: {e.code} ({e}), catalogue says {case['code']}")
            if type(e) is not backorder.ERRORS[case["code"]]:
                failures.append(f"{case['id']}: raised {type(e).__name__}")
        if _reads(engine, cat["snapshot"]) != before:
            failures.append(f"{case['id']}: the refused call changed state")
    assert len(cat["cases"]) >= 50
    assert failures == [], failures
