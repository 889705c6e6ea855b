"""Pose-model assets: which models exist, where they come from, checksums, provisioning.

- `models.registry`: the known models (lite, full, heavy) and the recipe for building
  ``pose_landmarker_full.task`` from the mediapipe 0.10.21 wheel on PyPI, with pins.
- `models.provision`: `resolve_model(name_or_path)` returns a verified `ModelAsset`
  (cache, then official download, then the wheel build) or raises `ModelUnavailable`;
  `describe()` lists the cache for ``backcheck models``.
- `models.build` and `models.tflite_metadata`: the wheel build itself.

Importing this package loads nothing heavy; mediapipe and flatbuffers are imported only
when a model is built.
"""
