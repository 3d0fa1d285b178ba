BaJÅq°m
H