# cmake -DINPUT=<file> -DOUTPUT=<file.cpp> -DSYMBOL=<name> -P EmbedFile.cmake
# Writes a C++ source defining `extern const std::uint8_t SYMBOL[]` and `SYMBOL_size` with the
# input's bytes, so a file (a signed resolver list) is compiled into the binary unchanged.
file(READ "${INPUT}" hex HEX)
string(LENGTH "${hex}" hex_len)
math(EXPR size "${hex_len} / 2")
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
file(WRITE "${OUTPUT}" "// Generated from ${INPUT} by cmake/EmbedFile.cmake: do not edit.\n#include <cstddef>\n#include <cstdint>\nnamespace dcp::embedded {\nextern const std::uint8_t ${SYMBOL}[];\nextern const std::size_t ${SYMBOL}_size;\nconst std::uint8_t ${SYMBOL}[] = {${bytes} 0};\nconst std::size_t ${SYMBOL}_size = ${size};\n}  // namespace dcp::embedded\n")
