
BxJ`lBE<A>ÌBùÀýD`,°AeÃúAo<ôHÍ¸!F%AOFõ;ê?gÈÅ=D	?PBÏ»jBj½ý°îDaD­¾m4<Ý·AµcÃ­@ÄÃ$E]GqGê=%ÀBBFH8,¾–Æ