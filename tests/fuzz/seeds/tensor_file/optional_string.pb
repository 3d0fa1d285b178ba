
o
2only