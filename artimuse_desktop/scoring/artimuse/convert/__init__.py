"""Checkpoint conversion: the authors' ``InternVLChatModel`` layout -> transformers' native InternVL layout.

One module per job: ``safetensors_io`` streams tensor bytes between safetensors files (no torch),
``checkpoint_files`` finds the weight and tokenizer files, ``config_mapping`` and ``tensor_mapping`` translate
the config and the tensor names, and ``checkpoint`` inspects a folder and writes the converted one.
"""
