BqJ
k¸PUzlv™s]