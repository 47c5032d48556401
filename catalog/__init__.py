"""The model catalog: ONNX models kept as JSON documents, queryable and searchable."""
