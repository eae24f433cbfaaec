# %% [markdown]
# # Setup and troubleshooting
#
# Which versions are installed, which accelerator PyTorch can see, and how much memory
# a model's weights take.

# %% versions compare={"devices": "kinds", "why": {"en": "it prints the versions installed where it runs", "zh": "它打印的是运行环境里安装的版本"}}
import platform

import torch
import transformers

print("Python      ", platform.python_version())
print("torch       ", torch.__version__)
print("transformers", transformers.__version__)
print("CUDA available:", torch.cuda.is_available())  # NVIDIA GPU
print("MPS available: ", torch.backends.mps.is_available())  # Apple silicon GPU

# %% device compare={"devices": "kinds", "why": {"en": "it prints the device it runs on", "zh": "它打印的是运行时所用的设备"}}
# The same choice the snippets make, extended to Apple's MPS.
if torch.cuda.is_available():
    device = "cuda"
elif torch.backends.mps.is_available():
    device = "mps"
else:
    device = "cpu"
print("device:", device)

# %% memory
# Weights only: parameters × bytes per parameter. Generation needs some more on top
# (activations, the key/value cache), growing with the length of the text.
parameters = {
    "Phi-3-mini": 3_821_079_552,
    "SmolLM2-135M": 134_515_008,
    "GPT-2": 124_439_808,
    "bert-base-uncased": 109_482_240,
    "all-MiniLM-L6-v2": 22_713_216,
}
bytes_per_parameter = {"fp32": 4, "bf16/fp16": 2, "int8": 1, "4-bit": 0.5}

print(f"{'model':<19}{'parameters':>15}" + "".join(f"{k:>11}" for k in bytes_per_parameter))
for name, count in parameters.items():
    sizes = "".join(f"{count * b / 1e9:>9.2f}GB" for b in bytes_per_parameter.values())
    print(f"{name:<19}{count:>15,}{sizes}")
