"""Throughput, latency and power measurements, one tidy record per (model, platform, batch)."""

# The columns of every measurement table, in order.
RECORD_COLUMNS = [
    "model", "platform", "device", "scope", "networks", "batch_size",
    "throughput_words_per_s", "latency_p50_ms", "latency_p95_ms", "power_w", "energy_per_word_j",
    "source", "method", "accuracy_on_measured", "n_measured", "timestamp", "config_hash", "git_revision",
]
