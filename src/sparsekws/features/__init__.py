"""Features of the task's samples: the front ends (``frontends``), the quantised features file
(``extract`` writes it, ``store`` reads it) and training-time audio augmentation (``augment``)."""
