"""Training and evaluation: the seeded training loop with resumable checkpoints (``trainer``,
``checkpoint``), the trained model file (``model_file``), running a model (``inference``), weight
statistics (``weights``) and the test-split evaluation (``evaluation``)."""
