"""Datasets in the Google Speech Commands (GSC) on-disk layout, and the task built on them.

- ``labels``: the 12-class label convention and split names.
- ``gsc``: GSC's split rule, list files, folder listing, and the real download/extraction.
- ``wav``: strict 16-bit PCM WAV reading and writing, and the rule that rejects or pads clips.
- ``synth``: the offline stand-in generator (espeak-ng and flite voices plus channel effects).
- ``build``: a dataset folder, built atomically; the usable files of one.
- ``task``: the samples of every split of the 12-class task (words, unknowns, silence windows).
- ``card``: the dataset card (what each split holds, what was rejected).
"""
