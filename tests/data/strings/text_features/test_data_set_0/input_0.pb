
2The2CAT2sat2ON2the2Mat2a2dog2cat2SatBtext