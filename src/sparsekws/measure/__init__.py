"""Throughput, latency and power measurements, one tidy record per (model, platform, backend, batch).

``RECORD_COLUMNS`` is the schema of every measurement table (``throughput.csv``);
``SKIPPED_COLUMNS`` the schema of ``skipped.csv``: a backend whose hardware or library is absent
writes one skipped row with the reason instead of a number. Power that cannot be read is NaN
(missing), never 0.
"""

# The columns of every measurement table, in order.
RECORD_COLUMNS = [
    "model", "platform", "backend", "device", "scope", "networks", "batch_size", "threads", "repeats",
    "throughput_words_per_s", "throughput_iqr_words_per_s", "latency_p50_ms", "latency_p95_ms", "latency_p99_ms",
    "power_w", "energy_per_word_j", "source", "method", "accuracy_on_measured", "model_accuracy_on_measured",
    "outputs_match_model", "n_measured", "timestamp", "config_hash", "git_revision",
]

# The columns of a skipped-backend table, in order.
SKIPPED_COLUMNS = ["model", "platform", "backend", "reason", "timestamp", "config_hash", "git_revision"]
