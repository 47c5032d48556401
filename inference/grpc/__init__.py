"""The Open Inference Protocol over gRPC (KServe v2 ``inference.GRPCInferenceService``)."""
