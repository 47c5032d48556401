"""Forms of the catalog pages (plain ``forms.Form``; views copy ``cleaned_data``)."""

from __future__ import annotations

from typing import Any

from django import forms

from catalog.domain import limits
from catalog.domain.jsonbody import JsonBodyError, decode_json
from catalog.web.inspect import SORT_KEYS

# Longest SQL++ statement the workbench accepts, in characters.


class InitializerTableForm(forms.Form):
    """Sorting, filtering and paging of the initializer table (a GET form)."""

    q = forms.CharField(required=False, max_length=200, label="Filter by name")
    sort = forms.ChoiceField(choices=[(k, k) for k in SORT_KEYS], required=False)
    order = forms.ChoiceField(
        choices=[("asc", "ascending"), ("desc", "descending")], required=False
    )
    page = forms.IntegerField(min_value=1, required=False)

    def clean_sort(self) -> str:
        return self.cleaned_data.get("sort") or "name"

    def clean_order(self) -> str:
        return self.cleaned_data.get("order") or "asc"

    def clean_page(self) -> int:
        return self.cleaned_data.get("page") or 1


class WorkbenchForm(forms.Form):
    """A read-only SQL++ statement and its optional parameters."""

    statement = forms.CharField(
        label="SQL++ statement",
        widget=forms.Textarea(attrs={"rows": 7, "spellcheck": "false", "autocomplete": "off"}),
    )
    params = forms.CharField(
        required=False,
        label="Parameters (JSON object for $name, or array for $1)",
        widget=forms.TextInput(attrs={"placeholder": '{"task": "classification"}'}),
    )

    def clean_statement(self) -> str:
        statement = self.cleaned_data["statement"]
        limit = limits.query_max_chars()
        if len(statement) > limit:
            raise forms.ValidationError(
                f"The statement has {len(statement):,} characters; the limit is {limit:,}"
                " (CATALOG_QUERY_MAX_CHARS)."
            )
        return statement

    def clean_params(self) -> dict[str, Any] | list[Any] | None:
        text = (self.cleaned_data.get("params") or "").strip()
        if not text:
            return None
        try:
            value = decode_json(text)
        except JsonBodyError as e:
            raise forms.ValidationError(
                str(e).replace("malformed JSON", "not valid JSON")
            ) from None
        if not isinstance(value, (dict, list)):
            raise forms.ValidationError("use a JSON object ($name) or a JSON array ($1, $2)")
        return value


class AliasMoveForm(forms.Form):
    """Point an alias at a version; ``expected`` guards against a concurrent move (CAS)."""

    version = forms.IntegerField(min_value=1)
    expected = forms.IntegerField(min_value=1, required=False)


# Largest page of search results a visitor may ask for.
MAX_SEARCH_LIMIT = 100
DEFAULT_SEARCH_LIMIT = 20
# Search URL parameter -> the keyword field its values filter (and the facet that lists them).
SEARCH_FILTERS = {
    "tag": ("tags", "metadata.tags"),
    "framework": ("framework", "metadata.framework"),
    "task": ("task", "metadata.task"),
    "op": ("opTypes", "summary.opTypes"),
}


class SearchForm(forms.Form):
    """A query string, facet filters and a page of the search (a GET form)."""

    q = forms.CharField(required=False, max_length=1000, label="Search models")
    offset = forms.IntegerField(min_value=0, max_value=10**6, required=False)
    limit = forms.IntegerField(min_value=1, max_value=MAX_SEARCH_LIMIT, required=False)
    all_versions = forms.BooleanField(required=False, label="All versions")

    def __init__(self, data: Any = None) -> None:
        super().__init__(data)
        self.filter_values: dict[str, list[str]] = {}
        if data is not None:
            for param in SEARCH_FILTERS:
                values = [v[:200] for v in data.getlist(param) if v.strip()]
                self.filter_values[param] = list(dict.fromkeys(values))[:20]

    def clean_q(self) -> str:
        return (self.cleaned_data.get("q") or "").strip()

    def clean_offset(self) -> int:
        return self.cleaned_data.get("offset") or 0

    def clean_limit(self) -> int:
        return self.cleaned_data.get("limit") or DEFAULT_SEARCH_LIMIT

    def filters(self) -> dict[str, list[str]]:
        """Return the facet filters as {indexed field: values} for ``search_models``."""
        return {
            SEARCH_FILTERS[param][1]: values
            for param, values in self.filter_values.items()
            if values
        }


class PromoteForm(forms.Form):
    """Point an alias at a version, if the alias still points where the page showed it."""

    alias = forms.RegexField(
        regex=r"^[A-Za-z][A-Za-z0-9_-]{0,63}$",
        initial="production",
        error_messages={"invalid": "an alias is a letter, then letters, digits, _ or -"},
    )
    version = forms.IntegerField(min_value=1)
    expected = forms.IntegerField(min_value=1, required=False)


class RollbackForm(forms.Form):
    """Point an alias back at the version it had before its last move."""

    alias = forms.RegexField(regex=r"^[A-Za-z][A-Za-z0-9_-]{0,63}$", initial="production")
    expected = forms.IntegerField(min_value=1, required=False)


class DiffForm(forms.Form):
    """The two versions to compare (a GET form); missing ones default to the newest two."""

    a = forms.IntegerField(min_value=1, required=False, label="From version")
    b = forms.IntegerField(min_value=1, required=False, label="To version")


def _split_tags(text: str) -> list[str]:
    return list(dict.fromkeys(t.strip() for t in text.split(",") if t.strip()))


class UploadForm(forms.Form):
    """A .onnx file and what the catalog should know about it."""

    file = forms.FileField(label="ONNX model (.onnx)")
    name = forms.RegexField(
        regex=r"^[A-Za-z0-9][A-Za-z0-9._-]*$",
        max_length=200,
        help_text="Letters, digits, '.', '_' and '-'. An existing name gets a new version.",
        error_messages={
            "invalid": "use letters, digits, '.', '_' and '-', starting with a letter or digit"
        },
    )
    description = forms.CharField(
        required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 3})
    )
    tags = forms.CharField(
        required=False,
        max_length=1000,
        help_text="Comma-separated, e.g. iris, svm",
    )
    task = forms.CharField(
        required=False, max_length=100, widget=forms.TextInput(attrs={"list": "tasks"})
    )
    framework = forms.CharField(
        required=False, max_length=100, widget=forms.TextInput(attrs={"list": "frameworks"})
    )
    format = forms.ChoiceField(
        choices=[
            ("json", "JSON document (query its graph and weights)"),
            ("binary", "Binary (smaller, loads fastest)"),
        ],
        initial="json",
        widget=forms.RadioSelect,
    )
    alias = forms.RegexField(
        regex=r"^[A-Za-z][A-Za-z0-9_-]{0,63}$",
        required=False,
        help_text="Optional, e.g. production or staging.",
        error_messages={"invalid": "an alias is a letter, then letters, digits, _ or -"},
    )

    def __init__(self, *args: Any, max_bytes: int | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.max_bytes = max_bytes

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if self.max_bytes is not None and upload.size > self.max_bytes:
            raise forms.ValidationError(
                f"the file is {upload.size / 2**20:.1f} MB; the limit is"
                f" {self.max_bytes / 2**20:.0f} MB"
            )
        return upload

    def clean_tags(self) -> list[str]:
        return _split_tags(self.cleaned_data.get("tags") or "")

    def publish_options(self) -> dict[str, Any]:
        """Return the keyword arguments of ``Registry.publish`` from the cleaned data."""
        return publish_options(self.cleaned_data)


def publish_options(data: Any) -> dict[str, Any]:
    """Return ``Registry.publish`` keyword arguments from form-like upload fields."""
    tags = data.get("tags")
    if isinstance(tags, str):
        tags = _split_tags(tags)
    metadata = {k: data[k].strip() for k in ("task", "framework") if (data.get(k) or "").strip()}
    description = (data.get("description") or "").strip()
    return {
        "metadata": metadata,
        "tags": tags or None,
        "description": description or None,
        "format": data.get("format") or "json",
        "alias": (data.get("alias") or "").strip() or None,
    }
