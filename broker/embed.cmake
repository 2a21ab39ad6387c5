# Writes the bytes of IN as a C initializer list ("0x23,0x21,...") to OUT,
# so a text file can be compiled into a program as it is.
file(READ "${IN}" hex HEX)
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
file(WRITE "${OUT}" "${bytes}\n")
