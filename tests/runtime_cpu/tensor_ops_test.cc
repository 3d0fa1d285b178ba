// Tests of the tensor_ops kernels (being written).
