#!/usr/bin/env bash
# The PyTorch reference for `dtwn bench train`: PyTorch 2.13 (CPU) in a venv at .venv-torch, which the benchmark
# finds on its own (or set DTWN_PYTHON to another python with torch).
# On these machines pip's configured local index and wheel folder serve torch 2.13.0+cpu; on a machine with internet,
# add: --index-url https://download.pytorch.org/whl/cpu
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv-torch
PIP_RETRIES=0 .venv-torch/bin/pip install --quiet "torch==2.13.0" numpy "$@"
.venv-torch/bin/python -c "import torch; print('PyTorch', torch.__version__, 'in .venv-torch')"
