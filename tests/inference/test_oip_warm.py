"""Session warm-up at start: configured and recently served models, within a budget."""

from __future__ import annotations

import json

from inference import warm
from inference.sessions import cache_key, get_session_cache
from tests.inference.test_inference_support import reg_fixture  # noqa: F401
from tests.web import oip_binary_cases as models


def test_recently_used_models_are_remembered_across_restarts(settings, tmp_path, monkeypatch):
    settings.VAR_DIR = tmp_path
    monkeypatch.setattr(warm, "_last_write", 0.0)
    monkeypatch.setattr(warm, "_used", {})
    warm.note_use("scale")
    stored = json.loads((tmp_path / warm.RECENT_FILE).read_text())
    assert list(stored) == ["scale"]
    warm.note_use("exclaim")  # within RECENT_WRITE_EVERY_S: remembered, written later
    assert list(json.loads((tmp_path / warm.RECENT_FILE).read_text())) == ["scale"]


def test_warm_up_builds_configured_and_recent_models(reg, settings, tmp_path):
    reg.publish("scale", models.scale_fp32(), alias="production")
    reg.publish("scale", models.scale_fp32())
    reg.publish("exclaim", models.exclaim_bytes())
    settings.VAR_DIR = tmp_path
    settings.CATALOG_WARM_MODELS = ["scale"]
    (tmp_path / warm.RECENT_FILE).write_text(json.dumps({"exclaim": 2.0, "gone": 1.0}))
    get_session_cache().clear()
    warmed = warm.warm_up(reg, budget_s=60)
    assert warmed == [("scale", 1), ("scale", 2), ("exclaim", 1)]  # production, then latest
    cached = set(get_session_cache().cached_keys())
    assert {cache_key(reg, n, v) for n, v in warmed} <= cached


def test_warm_up_stops_when_its_budget_is_spent(reg, settings, tmp_path):
    reg.publish("scale", models.scale_fp32())
    settings.VAR_DIR = tmp_path
    settings.CATALOG_WARM_MODELS = ["scale"]
    get_session_cache().clear()
    assert warm.warm_up(reg, budget_s=-1) == []
    assert warm.warm_up(reg, budget_s=60) == [("scale", 1)]
