// Tests of the elementwise kernels (being written).
