// Tests of the reduce kernels (being written).
