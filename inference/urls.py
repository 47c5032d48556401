"""URLs of the inference pages and APIs (filled in by the inference module)."""

urlpatterns: list = []
