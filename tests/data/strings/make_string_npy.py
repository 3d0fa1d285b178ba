# Writes the NumPy string arrays tensor_io_test reads: fixed-width Unicode ('<U'), bytes ('|S') and an object
# array (which tandem refuses: it is pickled). Run with /usr/bin/python3 from this folder.
import numpy as np

np.save("words_u.npy", np.array([["héllo", "a"], ["", "ß€😀"]]))
np.save("bytes_s.npy", np.array([b"ab", b"\xff\x00z", b""]))
np.save("objects.npy", np.array(["a", "b"], dtype=object), allow_pickle=True)
