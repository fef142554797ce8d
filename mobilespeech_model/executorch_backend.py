"""The ExecuTorch backend: runs a bundle's .pte programs through ExecuTorch's Python runtime.

It imports no PyTorch model class: the programs carry all model math. Inputs are checked
against the bounds in the manifest before a call, since ExecuTorch reports an out-of-bound
dynamic shape only as a generic error.
"""

from __future__ import annotations

from typing import Any

import torch

from mobilespeech_runtime.errors import BundleError, InvalidTextError

from .bundle import SCHEMA_VERSION, Bundle

PROGRAMS = {
    "prompt.pte": ("encode", "memory"),
    "text.pte": ("text_and_durations",),
    "smd.pte": ("step",),
    "decoder.pte": ("decode",),
}
VOCODER = {"vocoder.pte": ("vocode",)}  # the mel codec's second decoding stage


def bundle_programs(bundle: Bundle) -> dict[str, tuple[str, ...]]:
    """Program files and methods this bundle's codec kind needs."""
    return {**PROGRAMS, **VOCODER} if bundle.config.codec.kind == "mel" else dict(PROGRAMS)


def _load_runtime() -> Any:
    # Without executorch.exir (torch.export, dynamo, torchao): see _et_import.
    from ._et_import import runtime

    return runtime()


class ExecuTorchBackend:
    def __init__(self, bundle: Bundle, num_threads: int | None = None) -> None:
        self.bundle = bundle
        self.config = bundle.config
        self.symbols = bundle.symbols
        rt = _load_runtime()
        if num_threads:
            from executorch.extension.pybindings import portable_lib

            portable_lib._unsafe_reset_threadpool(int(num_threads))
        self._methods: dict[str, Any] = {}
        expected = self.bundle.manifest.get("constants", {})
        self._vocoder = bundle.config.codec.kind == "mel"
        for file, methods in bundle_programs(bundle).items():
            path = bundle.program_path(file)
            try:
                program = rt.load_program(path)
            except Exception as e:  # noqa: BLE001 - ExecuTorch raises RuntimeError/ValueError
                raise BundleError(f"ExecuTorch cannot load {path.name}: {e}") from e
            names = set(program.method_names)
            missing = [m for m in methods if m not in names]
            if missing:
                raise BundleError(f"{path.name} lacks method(s) {missing} (found {sorted(names)})")
            self._check_constants(path.name, program, names, expected)
            for m in methods:
                meta = bundle.program_meta(file)["methods"][m]
                mm = program.metadata(m)
                if mm.num_inputs() != len(meta["inputs"]):
                    raise BundleError(
                        f"{path.name}:{m} takes {mm.num_inputs()} inputs, manifest "
                        f"says {len(meta['inputs'])}"
                    )
                for i, spec in enumerate(meta["inputs"]):
                    sizes = list(mm.input_tensor_meta(i).sizes())
                    if sizes != spec["max_shape"]:
                        raise BundleError(
                            f"{path.name}:{m} input {spec['name']} has bound "
                            f"{sizes}, manifest says {spec['max_shape']}"
                        )
                try:
                    self._methods[m] = program.load_method(m)
                except Exception as e:  # noqa: BLE001
                    raise BundleError(f"ExecuTorch cannot load {path.name}:{m}: {e}") from e

    @staticmethod
    def _check_constants(
        file: str, program: Any, names: set[str], expected: dict[str, Any]
    ) -> None:
        for key, want in expected.items():
            if key not in names:
                raise BundleError(f"{file} lacks metadata {key!r}: exported by another version?")
            got = program.load_method(key).execute([])
            got = [int(x) for x in got] if len(got) != 1 or isinstance(want, list) else int(got[0])
            if key == "schema_version" and got != SCHEMA_VERSION:
                raise BundleError(f"{file} has schema {got}, runtime reads {SCHEMA_VERSION}")
            if got != want:
                raise BundleError(
                    f"{file} was exported for {key}={got}, the manifest says {want}: "
                    "programs from different bundles were mixed"
                )

    def _run(self, name: str, inputs: list[torch.Tensor]) -> list[torch.Tensor]:
        try:
            return list(self._methods[name].execute(inputs))
        except Exception as e:  # noqa: BLE001
            raise BundleError(f"program method {name} failed: {e}") from e

    def encode_prompt(self, wav: torch.Tensor) -> torch.Tensor:
        return self._run("encode", [wav.contiguous()])[0]

    def prompt_memory(self, prompt: torch.Tensor) -> torch.Tensor:
        return self._run("memory", [prompt.contiguous()])[0]

    def text_and_durations(
        self, phonemes: torch.Tensor, prompt: torch.Tensor, length_scale: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        limit = self.config.model.max_phonemes
        if phonemes.shape[1] > limit:
            raise InvalidTextError(
                f"{phonemes.shape[1]} phonemes in one chunk; the model takes at most {limit}"
            )
        text, frames = self._run("text_and_durations", [phonemes, prompt, length_scale.float()])
        return text, frames

    def smd_step(
        self,
        tokens: torch.Tensor,
        layer: torch.Tensor,
        text: torch.Tensor,
        index: torch.Tensor,
        memory: torch.Tensor,
        noise: torch.Tensor,
        temperature: torch.Tensor,
        n_masked_after: torch.Tensor,
    ) -> torch.Tensor:
        return self._run(
            "step", [tokens, layer, text, index, memory, noise, temperature, n_masked_after]
        )[0]

    def decode_chunk(self, tokens: torch.Tensor, keep: torch.Tensor) -> torch.Tensor:
        """One decoder window to a waveform (the mel codec: tokens -> mel -> vocoder)."""
        out = self.decode_mel(tokens, keep)
        return self.vocode(out) if self._vocoder else out

    def decode_mel(self, tokens: torch.Tensor, keep: torch.Tensor) -> torch.Tensor:
        """One decoder window through decoder.pte (the mel codec: its log-mel
        [1, n_mels, W * token_stride]; EnCodec: the waveform)."""
        return self._run("decode", [tokens, keep])[0]

    def vocode(self, mel: torch.Tensor) -> torch.Tensor:
        """Mel codec: log-mel [1, n_mels, W * token_stride] -> waveform [1, W * hop]."""
        return self._run("vocode", [mel])[0]
