"""The model list's cards, written in Python: the same HTML as the template loop they replace
(rendered here by Django's template engine as the reference) for any listed model, hostile
text included."""

from __future__ import annotations

import re
from typing import Any

from django.template import engines
from hypothesis import given, settings
from hypothesis import strategies as st

from catalog.web.model_cards import model_cards

# The model list's loop as it was in templates/catalog/model_list.html.
REFERENCE = """{% load catalog_tags %}{% for m in models %}
  <li class="card">
    <h2><a href="{{ models_url }}{{ m.name }}/">{{ m.name }}</a> <span class="version">v{{ m.version }}</span></h2>
    <p class="desc">{{ m.description|default:"No description." }}</p>
    <p class="badges">
      {% if m.task %}<span class="badge task">{{ m.task }}</span>{% endif %}
      {% if m.framework %}<span class="badge framework">{{ m.framework }}</span>{% endif %}
      {% for t in m.tags %}<span class="tag">{{ t }}</span>{% endfor %}
    </p>
    <p class="muted small">{{ m.versions }} version{{ m.versions|pluralize }} · {{ m.paramCount|default:0|compact }} parameters · {{ m.sizeBytes|filesizeformat }} · {{ m.opTypes|length }} operator type{{ m.opTypes|length|pluralize }}</p>
  </li>
  {% endfor %}"""  # noqa: E501

HOSTILE = ['<script>alert("x")</script>', "a & b", "it's", '"q"', "é😀", ""]


def _reference(models: list[dict[str, Any]], models_url: str) -> str:
    html = (
        engines["django"]
        .from_string(REFERENCE)
        .render({"models": models, "models_url": models_url})
    )
    return _squeezed(html)


def _squeezed(html: str) -> str:
    """Return the markup without the template's indentation between tags."""
    return re.sub(r">\s+<", "><", html).strip()


def _model(**fields: Any) -> dict[str, Any]:
    return {
        "name": "iris-svc",
        "version": 3,
        "createdAt": "2026-11-25T03:02:32.536Z",
        "format": "json",
        "description": "An SVC on iris",
        "tags": ["iris", "demo"],
        "task": "classification",
        "framework": "scikit-learn",
        "opTypes": ["SVMClassifier", "ZipMap"],
        "paramCount": 1234,
        "sizeBytes": 40960,
        "versions": 7,
    } | fields


def test_a_card_links_the_model_and_shows_its_badges_and_figures() -> None:
    html = model_cards([_model()], "/models/")
    assert html.startswith('<li class="card"><h2><a href="/models/iris-svc/">iris-svc</a>')
    assert '<span class="version">v3</span>' in html
    assert '<span class="badge task">classification</span>' in html
    assert '<span class="tag">iris</span><span class="tag">demo</span>' in html
    assert "7 versions · 1.2K parameters · 40.0\xa0KB · 2 operator types" in html
    assert _squeezed(html) == _reference([_model()], "/models/")


def test_every_text_of_a_card_is_escaped() -> None:
    bad = '<b onmouseover="x">&\'</b>'
    model = _model(description=bad, tags=[bad], task=bad, framework=bad)
    html = model_cards([model], "/models/")
    assert "<b " not in html and html.count("&lt;b onmouseover=&quot;x&quot;&gt;&amp;&#x27;") == 4
    assert _squeezed(html) == _reference([model], "/models/")


def test_missing_and_single_values_read_as_the_template_had_them() -> None:
    model = _model(
        description="", tags=[], task=None, framework="", opTypes=["Add"], versions=1,
        paramCount=None, sizeBytes=None,
    )  # fmt: skip
    html = model_cards([model], "/models/")
    assert '<p class="desc">No description.</p><p class="badges"></p>' in html
    assert "1 version · 0 parameters · 0\xa0bytes · 1 operator type</p>" in html
    assert _squeezed(html) == _reference([model], "/models/")


_texts = st.one_of(st.sampled_from(HOSTILE), st.text(max_size=12))
_numbers = st.one_of(
    st.none(), st.integers(-(2**40), 2**40), st.floats(-1e12, 1e12, allow_nan=False)
)
_models = st.builds(
    _model,
    description=st.one_of(st.none(), _texts),
    tags=st.lists(_texts, max_size=4),
    task=st.one_of(st.none(), _texts),
    framework=st.one_of(st.none(), _texts),
    opTypes=st.lists(st.sampled_from(["Add", "Gemm", "ZipMap"]), max_size=3),
    paramCount=_numbers,
    sizeBytes=_numbers,
    versions=st.integers(0, 30_000),
    version=st.integers(1, 10**6),
)


@settings(max_examples=150, deadline=None)
@given(st.lists(_models, max_size=4))
def test_the_cards_are_the_template_loops_html_for_any_listed_models(models) -> None:
    assert _squeezed(model_cards(models, "/m/")) == _reference(models, "/m/")
