"""The same model folder run by ONNX Runtime: exported once (fp32, and int8 by dynamic quantization), cached beside it.

The exported graph takes token ids and the attention mask and returns the mean-pooled, L2-normalised sentence
vector, so pooling over the real tokens and the normalisation are inside the export and cannot drift from the torch
encoder's. Exporting needs torch, transformers and onnx (once); running needs only onnxruntime and tokenizers.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from assistant.config import Settings
from assistant.errors import ConfigError
from assistant.model_folder import folder_prompts, model_folder

FP32_FILE = "model.onnx"
INT8_FILE = "model-int8.onnx"
# Bump when the export changes, so that older cached exports are replaced.
_EXPORT_VERSION = 1
_WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin")


class OnnxEmbedder:
    """An `Embedder` that runs a sentence-transformers folder's ONNX export on the CPU, in fp32 or int8."""

    def __init__(
        self,
        model: str | Path | None = None,
        cache_dir: Path | None = None,
        quantized: bool = False,
        batch_size: int = 32,
        threads: int | None = None,
        query_prefix: str | None = None,
        passage_prefix: str | None = None,
    ) -> None:
        self.name, folder = model_folder(model, cache_dir)
        self.encoder = "onnx-int8" if quantized else "onnx"
        prompts = folder_prompts(folder)
        self.query_prefix = query_prefix if query_prefix is not None else prompts.get("query", "")
        self.passage_prefix = passage_prefix if passage_prefix is not None else prompts.get("passage", "")
        self.batch_size = batch_size
        self.path = build_onnx(folder, onnx_dir(folder, cache_dir or Settings().cache_dir), quantized)

        import onnxruntime as ort

        options = ort.SessionOptions()
        # 0 lets ONNX Runtime take every core (ingest); serving passes 1 so one request leaves the others a core.
        options.intra_op_num_threads = threads or 0
        options.inter_op_num_threads = 1
        # Idle threads sleep instead of spinning: on a shared 2-core machine spinning takes the core another
        # process (or request) needs, which made the ingest beside another one several times slower.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        options.log_severity_level = 3
        self._session = ort.InferenceSession(str(self.path), options, providers=["CPUExecutionProvider"])
        self._tokenizer = _tokenizer(folder)
        width = self._session.get_outputs()[0].shape[-1]
        self.dim = width if isinstance(width, int) else int(self._run(["x"]).shape[1])

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        """Embed texts to be searched."""
        return self._encode([self.passage_prefix + text for text in texts])

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Embed search queries."""
        return self._encode([self.query_prefix + text for text in texts])

    def _encode(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        # Longest first, as sentence-transformers does, so a batch pads to texts of about its own length.
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        for start in range(0, len(order), self.batch_size):
            rows = order[start : start + self.batch_size]
            out[rows] = self._run([texts[i] for i in rows])
        return out

    def _run(self, texts: list[str]) -> np.ndarray:
        encodings = self._tokenizer.encode_batch(texts)
        feed = {
            "input_ids": np.array([e.ids for e in encodings], dtype=np.int64),
            "attention_mask": np.array([e.attention_mask for e in encodings], dtype=np.int64),
        }
        return np.asarray(self._session.run(["embedding"], feed)[0], dtype=np.float32)


def _tokenizer(folder: Path) -> Any:
    """The folder's fast tokenizer, truncating where sentence-transformers does and padding to the batch's longest."""
    from tokenizers import Tokenizer

    path = folder / "tokenizer.json"
    if not path.is_file():
        raise ConfigError(f"{folder} has no tokenizer.json; the ONNX encoders need one - use ASSISTANT_ENCODER=torch.")
    tokenizer = Tokenizer.from_file(str(path))
    limit = _read_json(folder / "sentence_bert_config.json").get("max_seq_length") or 512
    config = _read_json(folder / "config.json")
    tokenizer.enable_truncation(min(int(limit), int(config.get("max_position_embeddings") or limit)))
    pad = _read_json(folder / "tokenizer_config.json").get("pad_token") or "<pad>"
    pad = pad if isinstance(pad, str) else pad.get("content", "<pad>")
    pad_id = tokenizer.token_to_id(pad)
    tokenizer.enable_padding(pad_id=pad_id if pad_id is not None else 0, pad_token=pad)
    return tokenizer


def onnx_dir(folder: Path, cache_dir: Path) -> Path:
    """Where a folder's exports are cached: beside it for a folder in the cache, else under the cache's onnx/."""
    folder = folder.resolve()
    models = (cache_dir / "models").resolve()
    if folder.parent == models:
        return models / f"{folder.name}.onnx"
    digest = hashlib.sha1(str(folder).encode("utf-8")).hexdigest()[:10]
    return cache_dir.resolve() / "onnx" / f"{folder.name}-{digest}"


def build_onnx(folder: Path, target: Path, quantized: bool) -> Path:
    """The export of `folder` in `target` (fp32, or int8 from it), exported now unless a current one is there."""
    target.mkdir(parents=True, exist_ok=True)
    stamp = _stamp(folder)
    fp32 = target / FP32_FILE
    if not is_current(fp32, stamp):
        _write_atomically(fp32, stamp, lambda tmp: _export(folder, tmp))
    if not quantized:
        return fp32
    int8 = target / INT8_FILE
    if not is_current(int8, stamp):
        _write_atomically(int8, stamp, lambda tmp: _quantize(fp32, tmp))
    return int8


def _stamp(folder: Path) -> dict[str, Any]:
    """What identifies the weights an export was made from (a rebuilt model folder changes it)."""
    files = {}
    for name in _WEIGHT_FILES:
        path = folder / name
        if path.is_file():
            info = path.stat()
            files[name] = [info.st_size, info.st_mtime_ns]
    return {"export_version": _EXPORT_VERSION, "source": str(folder.resolve()), "weights": files}


def is_current(path: Path, stamp: dict[str, Any]) -> bool:
    """Whether `path` is an export finished from the weights `stamp` describes."""
    return path.is_file() and _read_json(_marker(path)) == stamp


def _marker(path: Path) -> Path:
    return path.with_name(path.name + ".json")


def _write_atomically(path: Path, stamp: dict[str, Any], write: Callable[[Path], None]) -> None:
    """Write beside `path` and rename into place, marker last, so an interrupted export is never taken as done."""
    tmp = path.with_name(f".{path.stem}.{os.getpid()}.tmp.onnx")
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    marker_tmp = _marker(tmp)
    marker_tmp.write_text(json.dumps(stamp, indent=2) + "\n", encoding="utf-8")
    os.replace(marker_tmp, _marker(path))


def _export(folder: Path, out: Path) -> None:
    """Trace the transformer with mean pooling and normalisation into one graph, then fuse it for ONNX Runtime."""
    import tempfile

    import onnx
    import torch
    from transformers import AutoConfig, AutoModel
    from transformers.utils import logging as hf_logging

    pooling = _read_json(folder / "1_Pooling" / "config.json")
    if pooling and not pooling.get("pooling_mode_mean_tokens"):
        raise ConfigError(f"{folder} pools otherwise than by the mean; the ONNX encoders need mean pooling.")
    config = AutoConfig.from_pretrained(str(folder), local_files_only=True)
    hf_logging.disable_progress_bar()
    # Eager attention traces to plain MatMul/Softmax, which the fusion below recognises.
    model = AutoModel.from_pretrained(
        str(folder), dtype=torch.float32, attn_implementation="eager", local_files_only=True
    ).eval()

    class Pooled(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids: Any, attention_mask: Any) -> Any:
            hidden = self.model(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
            weights = attention_mask.unsqueeze(-1).to(hidden.dtype)
            mean = (hidden * weights).sum(dim=1) / weights.sum(dim=1).clamp(min=1e-9)
            return torch.nn.functional.normalize(mean, p=2.0, dim=1)

    # A padded row in the example, so the trace keeps the masking path (an all-ones mask may be skipped).
    pad = config.pad_token_id or 0
    ids = torch.tensor([[0, 5, 6, 7, 2], [0, 8, 2, pad, pad]], dtype=torch.int64)
    mask = torch.tensor([[1, 1, 1, 1, 1], [1, 1, 1, 0, 0]], dtype=torch.int64)
    with tempfile.TemporaryDirectory(dir=out.parent, prefix=".export-") as tmp:
        raw = Path(tmp) / "raw.onnx"
        with torch.no_grad():
            torch.onnx.export(
                Pooled(),
                (ids, mask),
                str(raw),
                input_names=["input_ids", "attention_mask"],
                output_names=["embedding"],
                dynamic_axes={"input_ids": {0: "batch", 1: "tokens"}, "attention_mask": {0: "batch", 1: "tokens"}},
                opset_version=17,
                dynamo=False,
            )
        graph = onnx.load(str(raw))
        _half_word_embeddings(graph)
        if getattr(config, "model_type", "") not in ("bert", "roberta", "xlm-roberta"):
            onnx.save(graph, str(out))
            return
        half = Path(tmp) / "half.onnx"
        onnx.save(graph, str(half))
        from onnxruntime.transformers import optimizer

        fused = optimizer.optimize_model(
            str(half),
            model_type="bert",
            num_heads=config.num_attention_heads,
            hidden_size=config.hidden_size,
            opt_level=0,
        )
        fused.save_model_to_file(str(out))


def _half_word_embeddings(graph: Any) -> None:
    """Store the word-embedding table (most of the weights) in float16 when that loses nothing, cast after lookup.

    The e5 folder's weights are float16 values already, so the lookups are exact and the file and the serving
    process hold half the table's size less; the torch encoder keeps the table in float16 for the same reason.
    """
    from onnx import TensorProto, helper, numpy_helper

    initializers = {i.name: i for i in graph.graph.initializer}
    nodes = graph.graph.node
    for position, node in enumerate(list(nodes)):
        table = initializers.get(node.input[0]) if node.op_type == "Gather" else None
        if table is None or not table.name.endswith("word_embeddings.weight"):
            continue
        values = numpy_helper.to_array(table)
        half = values.astype(np.float16)
        if values.dtype != np.float32 or not np.array_equal(half.astype(np.float32), values):
            return
        table.CopyFrom(numpy_helper.from_array(half, table.name))
        looked_up = node.output[0]
        node.output[0] = looked_up + "_half"
        cast = helper.make_node("Cast", [node.output[0]], [looked_up], to=TensorProto.FLOAT, name="word_rows_float")
        nodes.insert(position + 1, cast)
        return


def _quantize(fp32: Path, out: Path) -> None:
    """Dynamic int8: weights per output channel (the error is a third of per-tensor's), activations at run time."""
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quiet = logging.getLogger()
    level = quiet.level
    quiet.setLevel(logging.ERROR)  # "consider pre-processing": the graph is already fused
    try:
        quantize_dynamic(
            str(fp32),
            str(out),
            weight_type=QuantType.QInt8,
            per_channel=True,
            # Not Gather: the word table stays exact in float16.
            op_types_to_quantize=["MatMul", "Attention"],
            extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
        )
    finally:
        quiet.setLevel(level)


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}
