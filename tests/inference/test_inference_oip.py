"""OIP datatype conversion, response encoding and the OpenAPI description."""

from __future__ import annotations

import json
import math
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from catalog.web.serving.present import pretty_json
from inference import oip
from inference.oip import InputTensor, ProtocolError


def tensor(datatype: str, shape: list[int], data) -> InputTensor:
    return InputTensor("X", datatype, shape, data)


@pytest.mark.parametrize(
    ("datatype", "dtype"),
    [
        ("BOOL", np.bool_),
        ("UINT8", np.uint8),
        ("UINT16", np.uint16),
        ("UINT32", np.uint32),
        ("UINT64", np.uint64),
        ("INT8", np.int8),
        ("INT16", np.int16),
        ("INT32", np.int32),
        ("INT64", np.int64),
        ("FP16", np.float16),
        ("FP32", np.float32),
        ("FP64", np.float64),
    ],
)
def test_each_datatype_converts_to_its_numpy_type(datatype, dtype):
    data = [True, False] if datatype == "BOOL" else [1, 2]
    array = oip.to_array(tensor(datatype, [1, 2], data))
    assert array.dtype == dtype and array.shape == (1, 2)
    assert oip.datatype_of(array) == datatype


def test_bytes_become_an_object_array():
    array = oip.to_array(tensor("BYTES", [2], ["a", "b"]))
    assert array.dtype == object and array.tolist() == ["a", "b"]
    assert oip.encode_output("Y", np.array([b"x", "y"], dtype=object))["data"] == ["x", "y"]


def test_nan_and_infinity_pass_for_floats():
    array = oip.to_array(tensor("FP32", [3], [math.nan, math.inf, 1]))
    assert math.isnan(array[0]) and math.isinf(array[1])


def test_non_finite_outputs_are_written_as_null():
    out = oip.encode_output("Y", np.array([[1.5, np.nan], [np.inf, -np.inf]], np.float32))
    assert out == {
        "name": "Y",
        "datatype": "FP32",
        "shape": [2, 2],
        "data": [1.5, None, None, None],
    }


@pytest.mark.parametrize(
    ("datatype", "data", "message"),
    [
        ("FP32", ["1.5"], "not strings"),
        ("FP32", [None], "numbers only"),
        ("FP32", [{"a": 1}], "numbers only"),
        ("FP32", [True], "not true/false"),
        ("INT32", [1.5], "must be integers"),
        ("INT32", [2**40], "out of range for INT32"),
        ("UINT64", [2**64], "numbers only"),
        ("BOOL", [1], "must be true/false"),
    ],
)
def test_values_of_the_wrong_kind_are_refused(datatype, data, message):
    with pytest.raises(ProtocolError, match=re.escape(message)) as info:
        oip.to_array(tensor(datatype, [1], data))
    assert info.value.field == "X"


def test_empty_bodies_and_non_json_are_protocol_errors():
    with pytest.raises(ProtocolError, match="empty"):
        oip.parse_json(b"")
    with pytest.raises(ProtocolError, match="malformed JSON"):
        oip.parse_json(b"{")


def test_a_request_keeps_id_outputs_and_parameters():
    request = oip.parse_infer_request(
        {
            "id": "7",
            "parameters": {"a": 1},
            "outputs": [{"name": "Y"}],
            "inputs": [
                {"name": "X", "datatype": "FP32", "shape": [1], "data": [1], "parameters": {"b": 2}}
            ],
        }
    )
    assert (request.id, request.outputs, request.parameters) == ("7", ["Y"], {"a": 1})
    assert request.inputs[0].parameters == {"b": 2}


def test_pretty_json_keeps_rows_on_one_line():
    text = pretty_json({"inputs": [{"shape": [2, 2], "data": [[1, 2], [3, 4]]}]})
    assert "[1, 2]" in text and "[3, 4]" in text and '"shape": [2, 2]' in text
    assert json.loads(text) == {"inputs": [{"shape": [2, 2], "data": [[1, 2], [3, 4]]}]}


def test_the_openapi_description_covers_every_api_route(client):
    from catalog.web.serving.urls import urlpatterns

    response = client.get("/api/openapi.json")
    assert response.status_code == 200
    spec = response.json()
    assert spec["openapi"].startswith("3.")
    documented = set(spec["paths"])
    for pattern in urlpatterns:
        route = "/" + re.sub(r"<str:(\w+)>", r"{\1}", str(pattern.pattern))
        route = route.replace("{ref}", "{version}").replace("{prediction_id}", "{id}")
        if route.startswith(("/v2", "/api/")):
            assert route in documented, route
    for path, item in spec["paths"].items():
        for operation in item.values():
            names = {p["name"] for p in operation.get("parameters", []) if p["in"] == "path"}
            assert names == set(re.findall(r"{(\w+)}", path)), path
    refs = re.findall(r'"\$ref": "#/components/(\w+)/(\w+)"', json.dumps(spec))
    for section, name in refs:
        assert name in spec["components"][section], name


# -- the one-step array of a plain flat list is the general path's array -------------------

_SCALARS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.booleans(),
)


def _general(tensor: InputTensor) -> np.ndarray | str:
    """The array (or error) of the general path, the one-step path switched off."""
    saved = oip.plain_array
    oip.plain_array = lambda *a: None
    try:
        return oip.to_array(tensor)
    except ProtocolError as e:
        return str(e)
    finally:
        oip.plain_array = saved


def _fast(tensor: InputTensor) -> np.ndarray | str:
    try:
        return oip.to_array(tensor)
    except ProtocolError as e:
        return str(e)


@settings(max_examples=400, derandomize=True, deadline=None)
@given(
    datatype=st.sampled_from([d for d in oip.DATATYPES if d != "BYTES"]),
    data=st.one_of(
        st.lists(st.floats(allow_nan=True, allow_infinity=True), min_size=1, max_size=8),
        st.lists(st.integers(min_value=-(2**65), max_value=2**65), min_size=1, max_size=8),
        st.lists(st.booleans(), min_size=1, max_size=8),
        st.lists(_SCALARS, min_size=1, max_size=8),
    ),
)
def test_plain_lists_give_the_general_paths_array(datatype, data):
    tensor = InputTensor("x", datatype, [1, len(data)], list(data), {})
    fast, general = _fast(tensor), _general(InputTensor("x", datatype, [1, len(data)], data, {}))
    if isinstance(general, str):
        assert fast == general
        return
    assert isinstance(fast, np.ndarray)
    assert fast.dtype == general.dtype and fast.shape == general.shape
    assert np.array_equal(fast, general, equal_nan=fast.dtype.kind == "f")


def test_the_one_step_path_takes_the_common_request():
    taken = oip.plain_array([5.1, 3.5, 1.4, 0.2], np.dtype(np.float32), [1, 4])
    assert taken is not None and taken.dtype == np.float32 and taken.shape == (1, 4)
    assert oip.plain_array([[5.1, 3.5]], np.dtype(np.float32), [1, 2]) is None  # nested
    assert oip.plain_array([1, 2.5], np.dtype(np.float32), [1, 2]) is None  # mixed
    assert oip.plain_array([300], np.dtype(np.uint8), [1]) is None  # the general path says
