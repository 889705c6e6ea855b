"""Write and read the TFLite metadata block that tells MediaPipe Tasks how to feed an image
to a network (colour space and input normalisation).

The bare networks in the MediaPipe wheel lack this block (or carry one copied from a face
detector), and MediaPipe Tasks reads it to build its image preprocessing. We write it with
the flatbuffers schema modules MediaPipe ships (`mediapipe.tasks.metadata`), not with its
metadata writers, which need a native extension missing from some wheels. Imports of
mediapipe and flatbuffers happen inside the functions: nothing heavy at import time.
"""

from __future__ import annotations

from dataclasses import dataclass

TFLITE_IDENTIFIER = b"TFL3"
METADATA_IDENTIFIER = b"M001"
METADATA_NAME = b"TFLITE_METADATA"
_MIN_PARSER_VERSION = "1.0.0"
_BUFFER_ALIGN = 16


@dataclass(frozen=True)
class ImageInput:
    """What an image network expects: ``input = (rgb_pixel - mean) / std``, float32."""

    mean: float
    std: float


def image_model_metadata(
    *,
    title: str,
    mean: float,
    std: float,
    input_range: tuple[float, float],
    output_names: tuple[str, ...],
) -> bytes:
    """A packed metadata block (identifier ``M001``) for a network with one RGB image input.

    The input tensor gets ImageProperties (RGB) and NormalizationOptions (mean, std);
    every output gets a name and feature content, so input and output counts match the
    model as MediaPipe's metadata extractor requires.
    """
    import flatbuffers
    import numpy as np
    from mediapipe.tasks.metadata import metadata_schema_py_generated as md

    image = md.TensorMetadataT()
    image.name = "image"
    image.description = "RGB image, float32, normalised as (pixel - mean) / std."
    image.content = md.ContentT()
    image.content.contentPropertiesType = md.ContentProperties.ImageProperties
    image.content.contentProperties = md.ImagePropertiesT()
    image.content.contentProperties.colorSpace = md.ColorSpaceType.RGB
    norm = md.NormalizationOptionsT()
    norm.mean = np.array([mean], dtype=np.float32)
    norm.std = np.array([std], dtype=np.float32)
    unit = md.ProcessUnitT()
    unit.optionsType = md.ProcessUnitOptions.NormalizationOptions
    unit.options = norm
    image.processUnits = [unit]
    image.stats = md.StatsT()
    image.stats.min = np.array([input_range[0]], dtype=np.float32)
    image.stats.max = np.array([input_range[1]], dtype=np.float32)

    outputs = []
    for name in output_names:
        out = md.TensorMetadataT()
        out.name = name
        out.content = md.ContentT()
        out.content.contentPropertiesType = md.ContentProperties.FeatureProperties
        out.content.contentProperties = md.FeaturePropertiesT()
        out.stats = md.StatsT()
        outputs.append(out)

    subgraph = md.SubGraphMetadataT()
    subgraph.inputTensorMetadata = [image]
    subgraph.outputTensorMetadata = outputs

    meta = md.ModelMetadataT()
    meta.name = title
    meta.description = "Built by backcheck from the MediaPipe wheel's bare network."
    meta.subgraphMetadata = [subgraph]
    meta.minParserVersion = _MIN_PARSER_VERSION

    builder = flatbuffers.Builder(1024)
    builder.Finish(meta.Pack(builder), file_identifier=METADATA_IDENTIFIER)
    return bytes(builder.Output())


def attach_metadata(model: bytes, metadata: bytes, *, n_outputs: int | None = None) -> bytes:
    """`model` (a .tflite flatbuffer) with `metadata` as its TFLITE_METADATA block.

    An existing TFLITE_METADATA block is replaced, every other buffer and metadata entry
    is kept. Raises ValueError when `model` is not a TFLite model, or when it does not
    have one input and `n_outputs` outputs (when given).
    """
    import flatbuffers
    import numpy as np
    from mediapipe.tasks.metadata import schema_py_generated as tfl

    if model[4:8] != TFLITE_IDENTIFIER:
        raise ValueError("not a TFLite model (no TFL3 identifier)")
    tree = tfl.ModelT.InitFromPackedBuf(bytearray(model), 0)
    graph = tree.subgraphs[0]
    if len(graph.inputs) != 1:
        raise ValueError(f"expected one input tensor, found {len(graph.inputs)}")
    if n_outputs is not None and len(graph.outputs) != n_outputs:
        raise ValueError(f"expected {n_outputs} output tensors, found {len(graph.outputs)}")

    buffer = tfl.BufferT()
    buffer.data = np.frombuffer(metadata, dtype=np.uint8)
    entries = list(tree.metadata or [])
    existing = [m for m in entries if _as_bytes(m.name) == METADATA_NAME]
    if existing:
        # Reuse the old block's buffer slot so no orphaned buffer is left behind.
        tree.buffers[existing[0].buffer] = buffer
        for extra in existing[1:]:
            entries.remove(extra)
    else:
        tree.buffers.append(buffer)
        entry = tfl.MetadataT()
        entry.name = METADATA_NAME.decode()
        entry.buffer = len(tree.buffers) - 1
        entries.append(entry)
    tree.metadata = entries

    class _AlignedBuffer(tfl.BufferT):  # type: ignore[misc,name-defined]
        """A buffer whose bytes start on a 16-byte boundary, as TFLite's own writer does,
        so tensors can be used in place instead of copied (the schema's force_align,
        which the Python object API ignores)."""

        def Pack(self, builder: flatbuffers.Builder) -> int:  # noqa: N802 (flatbuffers API)
            if self.data is not None and len(self.data):
                builder.Prep(_BUFFER_ALIGN, len(self.data))
            return int(super().Pack(builder))

    for item in tree.buffers:
        item.__class__ = _AlignedBuffer

    builder = flatbuffers.Builder(len(model) + len(metadata) + 4096)
    builder.Finish(tree.Pack(builder), file_identifier=TFLITE_IDENTIFIER)
    return bytes(builder.Output())


def read_image_input(model: bytes) -> ImageInput | None:
    """The input normalisation a model's metadata declares, or None without metadata."""
    from mediapipe.tasks.metadata import metadata_schema_py_generated as md
    from mediapipe.tasks.metadata import schema_py_generated as tfl

    root = tfl.Model.GetRootAs(model, 0)
    for i in range(root.MetadataLength()):
        entry = root.Metadata(i)
        if entry.Name() != METADATA_NAME:
            continue
        data = root.Buffers(entry.Buffer()).DataAsNumpy()
        meta = md.ModelMetadataT.InitFromPackedBuf(bytearray(data.tobytes()), 0)
        for unit in meta.subgraphMetadata[0].inputTensorMetadata[0].processUnits or []:
            if unit.optionsType == md.ProcessUnitOptions.NormalizationOptions:
                return ImageInput(mean=float(unit.options.mean[0]), std=float(unit.options.std[0]))
    return None


def _as_bytes(value: str | bytes | None) -> bytes:
    if value is None:
        return b""
    return value if isinstance(value, bytes) else value.encode()
