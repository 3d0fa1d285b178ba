BlogitsJ v&Î=ôÊn=ï
G=µw“¾zK(>4+˜=Ú9G>H{ ¾