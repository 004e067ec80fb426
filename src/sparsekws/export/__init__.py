"""Export of a trained model to QONNX, checked to compute what the torch model computes."""
