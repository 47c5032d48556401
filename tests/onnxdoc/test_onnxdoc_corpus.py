"""Round trip of the real models shipped in the onnx wheel (issue 2, point 3).

Every model: model_to_document (1 KiB threshold, so externalization is exercised)
-> JSON text -> document_to_model -> same tensors bit for bit, same fields, the checker
still passes; then the rebuilt model runs in onnxruntime against the shipped outputs.
"""

from __future__ import annotations

import glob
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import pytest
from google.protobuf import json_format
from onnx import numpy_helper

from catalog import onnxdoc
from tests.onnx_factories import assert_same_model, store_and_load

ort = pytest.importorskip("onnxruntime")

DATA = Path(onnx.__file__).parent / "backend" / "test" / "data"
SUITES = ("light", "pytorch-converted", "pytorch-operator", "simple")
# 1 KiB as the brief asks; few corpus tensors are that large, so every model also goes
# through with every non-string tensor externalized in 100-byte chunks
SETTINGS = {
    "1KiB": {"threshold": 1024},
    "all-chunked": {"threshold": 0, "chunk_size": 100},
}
# the tolerances of onnx's backend test runner (onnx/backend/test/runner)
RTOL, ATOL = 1e-3, 1e-7


@dataclass(frozen=True)
class Case:
    """One corpus model: its file and where its test data lives."""

    name: str
    path: Path

    @property
    def is_light(self) -> bool:
        return self.path.parent.name == "light"

    def data_sets(self, model: onnx.ModelProto) -> list[tuple[list[Any], list[Any]]]:
        """Return [(inputs, expected outputs)] as onnx's backend runner builds them."""
        if self.is_light:
            return _light_data_set(model, self.path)
        sets = []
        for folder in sorted(glob.glob(str(self.path.parent / "test_data_set_*"))):
            inputs = _load_protos(folder, "input", model.graph.input)
            outputs = _load_protos(folder, "output", model.graph.output)
            sets.append((inputs, outputs))
        return sets


def _cases() -> list[Case]:
    cases = []
    for suite in SUITES:
        if suite == "light":
            for path in sorted((DATA / suite).glob("*.onnx")):
                cases.append(Case(f"{suite}/{path.stem}", path))
        else:
            for path in sorted((DATA / suite).glob("*/model.onnx")):
                cases.append(Case(f"{suite}/{path.parent.name}", path))
    return cases


CASES = _cases()


def _load_protos(folder: str, kind: str, infos: Any) -> list[Any]:
    values = []
    for i in range(len(glob.glob(f"{folder}/{kind}_*.pb"))):
        data = Path(folder, f"{kind}_{i}.pb").read_bytes()
        type_proto = infos[i].type
        if type_proto.HasField("sequence_type"):
            proto = onnx.SequenceProto()
            proto.ParseFromString(data)
            values.append(numpy_helper.to_list(proto))
        elif type_proto.HasField("optional_type"):
            proto = onnx.OptionalProto()
            proto.ParseFromString(data)
            values.append(numpy_helper.to_optional(proto))
        else:
            proto = onnx.TensorProto()
            proto.ParseFromString(data)
            values.append(numpy_helper.to_array(proto))
    return values


def _light_data_set(model: onnx.ModelProto, path: Path) -> list[tuple[list[Any], list[Any]]]:
    """Return the runner's deterministic inputs and the shipped <model>_output_N.pb."""
    initializers = {t.name for t in model.graph.initializer}
    inputs = []
    for info in model.graph.input:
        if info.name in initializers:
            continue
        shape = tuple(
            d.dim_value if d.HasField("dim_value") else 1 for d in info.type.tensor_type.shape.dim
        )
        n = int(np.prod(shape))
        inputs.append((np.arange(n).reshape(shape) / n).astype(np.float32))
    outputs = []
    for i in range(len(model.graph.output)):
        output = path.with_name(f"{path.stem}_output_{i}.pb")
        if not output.exists():
            return []
        outputs.append(numpy_helper.to_array(onnx.load_tensor(str(output))))
    return [(inputs, outputs)]


def _checker_passes(model: onnx.ModelProto) -> bool:
    try:
        onnx.checker.check_model(model, full_check=True)
    except (onnx.checker.ValidationError, onnx.shape_inference.InferenceError):
        return False
    return True


def _session(model: onnx.ModelProto) -> Any:
    return ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])


def _run(session: Any, inputs: list[Any]) -> list[Any]:
    names = [i.name for i in session.get_inputs()]
    return session.run(None, dict(zip(names, inputs, strict=False)))


def _assert_similar(expected: Any, actual: Any, where: str) -> None:
    if isinstance(expected, list | tuple):
        assert isinstance(actual, list | tuple), where
        assert len(actual) == len(expected), where
        for i, (e, a) in enumerate(zip(expected, actual, strict=True)):
            _assert_similar(e, a, f"{where}[{i}]")
        return
    actual = np.asarray(actual)
    assert actual.shape == expected.shape, where
    if expected.dtype == object:
        np.testing.assert_array_equal(actual, expected, err_msg=where)
    else:
        assert actual.dtype == expected.dtype, where
        np.testing.assert_allclose(actual, expected, rtol=RTOL, atol=ATOL, err_msg=where)


@pytest.mark.parametrize("setting", list(SETTINGS))
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_corpus_model_round_trips(case: Case, setting: str) -> None:
    original = onnx.load(str(case.path))
    document, rebuilt = store_and_load(original, **SETTINGS[setting])

    assert_same_model(original, rebuilt)
    # our reader of the stored JSON agrees with json_format's
    stored = json.loads(json.dumps(document.onnx))
    ours = onnxdoc.convert.parse_document(stored).SerializeToString(deterministic=True)
    theirs = json_format.ParseDict(stored, onnx.ModelProto()).SerializeToString(deterministic=True)
    assert ours == theirs
    if _checker_passes(original):
        onnx.checker.check_model(rebuilt, full_check=True)
    assert document.summary["sizeBytes"] == original.ByteSize()
    assert onnxdoc.chunk_keys(stored) == set(document.chunks)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_corpus_model_runs_after_round_trip(case: Case) -> None:
    original = onnx.load(str(case.path))
    data_sets = case.data_sets(original)
    if not data_sets:
        pytest.skip("no inputs and outputs shipped with this model")
    try:
        _run(_session(original), data_sets[0][0])
    except Exception as exc:  # noqa: BLE001 - any failure of onnxruntime on the original
        pytest.skip(f"onnxruntime cannot run the original model: {type(exc).__name__}: {exc}")

    _, rebuilt = store_and_load(original, **SETTINGS["all-chunked"])
    session = _session(rebuilt)
    for n, (inputs, expected) in enumerate(data_sets):
        _assert_similar(expected, _run(session, inputs), f"{case.name} data set {n}")
