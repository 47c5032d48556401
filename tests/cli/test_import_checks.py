"""`catalog import` checks every line against the document schema before writing anything."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import CommandError, call_command

from catalog.domain.registry import get_registry
from tests.models import matmul_model
from tests.web.bad_input_cases import DEEP_950, SCHEMA_CASES, deep_json_text

MODELS = "ml.catalog.models"


def cli(*args: str) -> str:
    out = io.StringIO()
    call_command("catalog", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


@pytest.fixture
def export_lines(catalog_store, tmp_path) -> list[dict]:
    """Return the records of an export of a one-version catalog."""
    get_registry().publish("mm", matmul_model(4, 2))
    dump = tmp_path / "dump.jsonl"
    cli("export", str(dump))
    return [json.loads(line) for line in dump.read_text().splitlines()]


def version_record(records: list[dict]) -> dict:
    return next(r for r in records if r["keyspace"] == MODELS)


def write(tmp_path, records: list[dict]) -> str:
    path = tmp_path / "in.jsonl"
    text = "".join(json.dumps(r) + "\n" for r in records)
    path.write_text(text.replace(json.dumps(DEEP_950), deep_json_text(950)))
    return str(path)


def damaged(record: dict, **changes) -> dict:
    value = dict(record["value"], **changes)
    key = f"{value['name']}::{value['version']}"
    return {"keyspace": MODELS, "key": key, "value": value}


def stored_keys(store) -> set[str]:
    return {k for k, _, _ in store.scan(MODELS)}


@pytest.mark.parametrize("case", list(SCHEMA_CASES))
def test_a_damaged_version_document_is_refused_with_its_line_and_nothing_is_written(
    export_lines, tmp_path, catalog_store, case
):
    change, words = SCHEMA_CASES[case]
    bad = damaged(version_record(export_lines), **change)
    good = damaged(version_record(export_lines), version=7)
    path = write(tmp_path, [good, bad])
    before = stored_keys(catalog_store)
    with pytest.raises(CommandError) as raised:
        cli("import", path)
    assert "nothing imported: 1 bad record(s)" in str(raised.value)
    assert "line 2:" in str(raised.value) and words in str(raised.value)
    assert stored_keys(catalog_store) == before  # not even the good line 1


def test_every_bad_line_is_named(export_lines, tmp_path, catalog_store):
    record = version_record(export_lines)
    lines = [damaged(record, version=v) for v in range(2, 6)]
    lines[1] = damaged(record, name="a/b")
    lines[3] = damaged(record, metadata="text")
    with pytest.raises(CommandError) as raised:
        cli("import", write(tmp_path, lines))
    message = str(raised.value)
    assert "2 bad record(s)" in message and "line 2:" in message and "line 4:" in message
    assert "line 1:" not in message and "line 3:" not in message


def test_a_key_that_does_not_match_name_and_version_is_refused(export_lines, tmp_path):
    record = dict(version_record(export_lines), key="other::1")
    with pytest.raises(CommandError, match="line 1: .*does not match name and version"):
        cli("import", write(tmp_path, [record]))


def test_an_alias_document_with_a_bad_alias_name_is_refused(export_lines, tmp_path):
    record = {"keyspace": "ml.catalog.aliases", "key": "mm", "value": {"aliases": {"p\n": 1}}}
    with pytest.raises(CommandError, match="line 1: .*alias 'p\\\\n' is not a valid alias"):
        cli("import", write(tmp_path, [record]))


def test_a_line_nested_5000_deep_is_refused_cleanly(export_lines, tmp_path):
    path = tmp_path / "deep.jsonl"
    path.write_text('{"keyspace": "ml.catalog.models", "key": "x::1", "value": ' + "[" * 5000)
    with pytest.raises(CommandError, match="line 1: "):
        cli("import", str(path))


def test_an_unknown_keyspace_is_refused(export_lines, tmp_path):
    record = {"keyspace": "other.bucket.models", "key": "k", "value": {}}
    with pytest.raises(CommandError, match="keyspace 'other.bucket.models' is not the catalog"):
        cli("import", write(tmp_path, [record]))


def test_a_clean_export_still_imports(export_lines, tmp_path, catalog_store):
    extra = damaged(version_record(export_lines), version=2)
    assert "imported" in cli("import", write(tmp_path, [*export_lines, extra]))
    assert stored_keys(catalog_store) == {"mm::1", "mm::2"}
