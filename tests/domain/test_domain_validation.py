"""Names, aliases and metadata by the publish rules; `catalog check` and damaged deletes."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from catalog.domain.registry import (
    InvalidModel,
    InvalidName,
    check_alias,
    check_name,
    get_registry,
)
from tests.models import matmul_model
from tests.web.bad_input_cases import BAD_ALIASES, BAD_MODEL_NAMES


def cli(*args: str) -> str:
    out = io.StringIO()
    call_command("catalog", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def nested(depth: int) -> dict:
    value: dict = {}
    for _ in range(depth - 1):
        value = {"a": value}
    return value


@pytest.fixture
def onnx_file(tmp_path):
    import onnx

    path = tmp_path / "mm.onnx"
    onnx.save(matmul_model(4, 2), path)
    return path


# -- names and aliases ----------------------------------------------------------------------


@pytest.mark.parametrize("name", BAD_MODEL_NAMES)
def test_bad_model_names_are_refused(name):
    with pytest.raises(InvalidName):
        check_name(name)


@pytest.mark.parametrize("alias", BAD_ALIASES)
def test_bad_aliases_are_refused(alias):
    with pytest.raises(InvalidName):
        check_alias(alias)


@pytest.mark.parametrize("name", ["iris", "a.b-c_d", "0x", "A" * 200])
def test_good_names_pass(name):
    assert check_name(name) == name


def test_a_model_named_with_a_trailing_newline_is_not_published(catalog_store):
    with pytest.raises(InvalidName):
        get_registry().publish("nl\n", matmul_model(4, 2))
    assert list(catalog_store.scan("ml.catalog.models")) == []


def test_an_alias_with_a_trailing_newline_is_not_set(catalog_store):
    reg = get_registry()
    reg.publish("mm", matmul_model(4, 2))
    with pytest.raises(InvalidName):
        reg.set_alias("mm", "production\n", 1)
    assert reg.aliases("mm") == {"latest": 1}


NAME_CHARS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")


@hsettings(derandomize=True, max_examples=300, deadline=200)
@given(st.text(alphabet=st.sampled_from([*"aZ09._-/ \n\r\t\x00é"]), max_size=8))
def test_a_name_passes_exactly_when_every_character_is_allowed(name):
    """Fuzz: names of allowed and forbidden characters, trailing newlines included."""
    expected = bool(name) and name[0].isascii() and name[0].isalnum() and set(name) <= NAME_CHARS
    try:
        check_name(name)
        accepted = True
    except InvalidName:
        accepted = False
    assert accepted == expected, repr(name)


# -- metadata ------------------------------------------------------------------------------


def test_json_depth_is_iterative_and_stops_past_the_limit():
    from catalog.domain import validation

    deep: list = []
    for _ in range(100_000):
        deep = [deep]
    assert validation.json_depth(deep, 10) == 11
    assert validation.json_depth({"a": [1, {"b": 2}]}, 10) == 3
    assert validation.json_depth(5, 10) == 0


@pytest.mark.parametrize(
    ("metadata", "words"),
    [
        (nested(950), "nested more than 32 levels"),
        (nested(33), "nested more than 32 levels"),
        ({"blob": "x" * (1024 * 1024)}, "at most 1048576 are accepted"),
        ({"tags": "a,b"}, "tags must be a list"),
        ({"description": 5}, "description must be a string"),
    ],
    ids=["950 deep", "33 deep", "over 1 MB", "tags a string", "description a number"],
)
def test_publish_refuses_bad_metadata_and_stores_nothing(catalog_store, metadata, words):
    with pytest.raises(InvalidModel, match=words):
        get_registry().publish("mm", matmul_model(4, 2), metadata=metadata)
    assert list(catalog_store.scan("ml.catalog.models")) == []


def test_publish_refuses_metadata_that_is_a_list(catalog_store):
    with pytest.raises(InvalidModel, match="metadata must be a JSON object, not a list"):
        get_registry().publish("mm", matmul_model(4, 2), metadata=[1, 2])  # type: ignore[arg-type]


def test_metadata_32_deep_is_accepted(catalog_store):
    ref = get_registry().publish("mm", matmul_model(4, 2), metadata={"x": nested(31)})
    assert ref.version == 1


def test_limits_follow_the_settings(catalog_store, settings):
    settings.CATALOG_METADATA_MAX_DEPTH = 3
    with pytest.raises(InvalidModel, match="nested more than 3 levels"):
        get_registry().publish("mm", matmul_model(4, 2), metadata={"a": {"b": {"c": {}}}})


@pytest.mark.parametrize("depth", [950, 990, 5000])
def test_cli_publish_with_deep_metadata_gives_one_error_line(catalog_store, onnx_file, depth):
    with pytest.raises(CommandError) as raised:
        text = '{"a":' * (depth - 1) + "{}" + "}" * (depth - 1)  # json.dumps would recurse
        cli("publish", "mm", str(onnx_file), "--metadata", text)
    message = str(raised.value)
    assert "nested" in message and "\n" not in message
    assert list(catalog_store.scan("ml.catalog.models")) == []


# -- catalog check and catalog delete of damaged documents ------------------------------------


def damage(store, key: str, **changes) -> None:
    doc, _ = store.get("ml.catalog.models", "mm::1")
    store.upsert("ml.catalog.models", key, dict(doc, **changes))


@pytest.fixture
def damaged_catalog(catalog_store):
    """Return a store with mm::1 healthy, and three damaged version documents."""
    get_registry().publish("mm", matmul_model(4, 2))
    damage(catalog_store, "mm::1x", version="1x")
    damage(catalog_store, "a/b::1", name="a/b")
    damage(catalog_store, "mm::5", version=5, metadata=[1, 2])
    return catalog_store


def test_check_lists_damaged_documents_and_fails(damaged_catalog):
    out = io.StringIO()
    with pytest.raises(CommandError, match="3 damaged document"):
        call_command("catalog", "check", stdout=out)
    lines = out.getvalue().splitlines()
    assert len(lines) == 4 and lines[-1] == "every index matches its documents"
    assert any("'mm::1x'" in line and "version '1x'" in line for line in lines)
    assert any("'a/b::1'" in line and "not a valid model name" in line for line in lines)
    assert any("'mm::5'" in line and "not a list" in line for line in lines)


def test_check_of_a_healthy_catalog_says_so(catalog_store):
    get_registry().publish("mm", matmul_model(4, 2))
    assert "no damaged documents" in cli("check")


def test_delete_removes_a_version_1x(damaged_catalog):
    assert "deleted damaged document 'mm::1x'" in cli("delete", "mm", "1x")
    keys = {k for k, _, _ in damaged_catalog.scan("ml.catalog.models")}
    assert "mm::1x" not in keys and "mm::1" in keys


def test_delete_removes_a_document_named_a_slash_b(damaged_catalog):
    assert "deleted damaged document 'a/b::1'" in cli("delete", "a/b", "1")
    assert "a/b::1" not in {k for k, _, _ in damaged_catalog.scan("ml.catalog.models")}


def test_delete_removes_a_damaged_document_with_a_valid_key(damaged_catalog):
    assert "deleted mm version 5" in cli("delete", "mm", "5")
    with pytest.raises(CommandError, match="3 damaged|2 damaged"):
        cli("check")
    assert "mm::5" not in {k for k, _, _ in damaged_catalog.scan("ml.catalog.models")}


def test_the_damaged_path_never_removes_a_healthy_document(damaged_catalog):
    damaged_catalog.upsert("ml.catalog.models", "mm::2x", {"name": "mm", "version": 2})
    with pytest.raises(CommandError, match="no document 'mm::9x'"):
        cli("delete", "mm", "9x")
    from catalog.domain import validation

    reg = get_registry()
    with pytest.raises(LookupError, match="is not damaged"):
        validation.remove_damaged(reg.store, reg.ks.models, "models", "mm::1")
    assert "mm::1" in {k for k, _, _ in damaged_catalog.scan("ml.catalog.models")}


def test_a_healthy_version_is_deleted_while_a_damaged_one_sits_next_to_it(damaged_catalog):
    get_registry().publish("mm", matmul_model(4, 2, seed=1))
    assert "deleted mm version 2" in cli("delete", "mm", "2")
    # "1x" is no candidate for latest (it used to make max() raise TypeError); mm::5 is.
    assert get_registry().aliases("mm")["latest"] == 5


@pytest.mark.parametrize("damage_value", [{"chunks": 5}, {"chunks": [{"k": 1}]}])
def test_a_damaged_document_at_a_valid_key_is_deleted_the_normal_way(damaged_catalog, damage_value):
    damage(damaged_catalog, "mm::6", version=6, **damage_value)
    assert "deleted mm version 6" in cli("delete", "mm", "6")
    assert "mm::6" not in {k for k, _, _ in damaged_catalog.scan("ml.catalog.models")}


def test_a_version_document_that_is_a_list_is_deleted(damaged_catalog):
    damaged_catalog.upsert("ml.catalog.models", "mm::7", [1, 2, 3])
    assert "deleted mm version 7" in cli("delete", "mm", "7")
