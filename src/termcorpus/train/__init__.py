"""termcorpus.train: turn the curated corpus into a checkpoint.

- ``chat``: the ChatML layout shared by training and inference.
- ``tokenizer.train_tokenizer``: a small byte-level BPE learned with names blanked out.
- ``model``: the ``tiny`` Qwen3 preset, or a local checkpoint to fine-tune; the varlen attention packed batches train with.
- ``data``: the batch stream: corpus loading, chat-template assistant labels, order, packing, collation.
- ``loop.train``: the Accelerate loop that writes the checkpoint and returns a ``TrainResult``.

Submodules are imported on use: ``chat`` must stay importable without torch.
"""
