// Tests of the linear_algebra kernels (being written).
