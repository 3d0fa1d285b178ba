// Tests of the rnn kernels (being written).
