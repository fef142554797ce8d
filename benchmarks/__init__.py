"""MobileSpeech benchmarks: RTF, time to first audio, peak RSS, size and load time per bundle
variant and thread count, with baselines (eager PyTorch, an autoregressive decoder of the same
size, the FLOP limit of this CPU) and the C ABI CLI. Entry point: ``python -m benchmarks``.
"""

SCHEMA = "mobilespeech-benchmark/1"
