"""Pose-model assets: which models exist, where they come from, checksums, provisioning.

- `models.registry`: the known models (lite, full, heavy) and the recipes for building
  them offline, with pins: ``full`` from the mediapipe 0.10.21 wheel on PyPI, ``lite``
  and ``heavy`` by swapping in the landmark network of the npm package @mediapipe/pose.
- `models.provision`: `resolve_model(name_or_path)` returns a verified `ModelAsset`
  (cache, then official download, then the build) or raises `ModelUnavailable`;
  `describe()` lists the cache for ``backcheck models``; ``python -m models.provision``
  provisions all three (CI does).
- `models.build` and `models.tflite_metadata`: the builds themselves.

Importing this package loads nothing heavy; mediapipe and flatbuffers are imported only
when a model is built.
"""
